"""pushed authorization requests (RFC 9126): the pushed_requests table

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)
_DIGEST = sa.LargeBinary(32)


def upgrade() -> None:
    op.create_table(
        "pushed_requests",
        sa.Column("id", _ID, nullable=False),
        sa.Column("digest", _DIGEST, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("client_id", _ID, nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
        sa.Column("flow_digest", _DIGEST, nullable=True),
        sa.Column("completed_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_pushed_requests_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_pushed_requests_client_id_clients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pushed_requests")),
        sa.UniqueConstraint("digest", name=op.f("uq_pushed_requests_digest")),
    )
    op.create_index("ix_pushed_requests_expires_at", "pushed_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_pushed_requests_expires_at", table_name="pushed_requests")
    op.drop_table("pushed_requests")
