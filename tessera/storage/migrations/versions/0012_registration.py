"""dynamic client registration (RFC 7591, RFC 7592): initial access tokens an admin made,
and the registration access token of each client that registered itself

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)
_DIGEST = sa.LargeBinary(32)


def upgrade() -> None:
    op.create_table(
        "registration_tokens",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("digest", _DIGEST, nullable=False),
        sa.Column("token_prefix", sa.String(16), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_by_name", sa.String(255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.Column("client_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_registration_tokens_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_registration_tokens_digest")),
    )
    op.create_index("ix_registration_tokens_account_id_id", "registration_tokens", ["account_id", "id"])
    op.create_table(
        "client_registrations",
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("token_digest", _DIGEST, nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_registrations_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_client_registrations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_registrations")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_client_registrations_token_digest")),
    )


def downgrade() -> None:
    op.drop_table("client_registrations")
    op.drop_index("ix_registration_tokens_account_id_id", table_name="registration_tokens")
    op.drop_table("registration_tokens")
