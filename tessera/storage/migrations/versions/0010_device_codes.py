"""device_codes: the device authorization grant (RFC 8628)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "device_codes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("user_code", sa.String(8), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", _TIME, nullable=True),
        sa.Column("slow_down", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("auth_time", _TIME, nullable=True),
        sa.Column("used_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_device_codes_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_device_codes_client_id_clients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_device_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_codes")),
        sa.UniqueConstraint("digest", name=op.f("uq_device_codes_digest")),
        sa.UniqueConstraint("user_code", name=op.f("uq_device_codes_user_code")),
    )
    op.create_index(op.f("ix_device_codes_expires_at"), "device_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_device_codes_expires_at"), table_name="device_codes")
    op.drop_table("device_codes")
