"""throttles: one counter per thing throttled, replacing login_failures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "throttles",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", _TIME, nullable=False),
        sa.Column("resets_at", _TIME, nullable=False),
        sa.Column("admitted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_throttles")),
    )
    op.create_index(op.f("ix_throttles_resets_at"), "throttles", ["resets_at"])
    # The counters of the old per-email limit are dropped, not carried over: at worst a
    # run of failures in progress starts again from one.
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_login_failures_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "email", name=op.f("pk_login_failures")),
    )
    op.drop_index(op.f("ix_throttles_resets_at"), table_name="throttles")
    op.drop_table("throttles")
