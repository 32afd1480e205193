"""administration: the audit log, suspended users, a client's previous secret

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "audit_logs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("source_id", _ID, nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_label", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("change_description", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_audit_logs_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    op.create_index("ix_audit_logs_account_id_id", "audit_logs", ["account_id", "id"])
    op.create_index("ix_audit_logs_created_at", "audit_logs", ["created_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("suspended_at", _TIME, nullable=True))
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("previous_secret_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret_hash")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("suspended_at")
    op.drop_index("ix_audit_logs_created_at", table_name="audit_logs")
    op.drop_index("ix_audit_logs_account_id_id", table_name="audit_logs")
    op.drop_table("audit_logs")
