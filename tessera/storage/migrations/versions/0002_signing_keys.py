"""signing keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:23:20.144756
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=8), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("private_jwe", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
        sa.Column("activated_at", sa.Float(precision=53), nullable=True),
        sa.Column("retired_at", sa.Float(precision=53), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_signing_keys_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")),
    )
    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.create_index(
            "uq_signing_keys_current",
            ["account_id", "alg"],
            unique=True,
            sqlite_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
            postgresql_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
        )
        batch_op.create_index(
            "uq_signing_keys_next",
            ["account_id", "alg"],
            unique=True,
            sqlite_where=sa.text("activated_at IS NULL"),
            postgresql_where=sa.text("activated_at IS NULL"),
        )

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signing_alg", sa.String(length=8), server_default="ES256", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("signing_alg")

    with op.batch_alter_table("signing_keys", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_signing_keys_next",
            sqlite_where=sa.text("activated_at IS NULL"),
            postgresql_where=sa.text("activated_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_signing_keys_current",
            sqlite_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
            postgresql_where=sa.text("activated_at IS NOT NULL AND retired_at IS NULL"),
        )

    op.drop_table("signing_keys")
