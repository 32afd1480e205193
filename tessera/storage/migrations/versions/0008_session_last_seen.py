"""session last use: the idle timeout of browser sessions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    # NOT NULL needs a default for the rows already there (both engines add the column in
    # place); the sessions open at the upgrade count as last used when they began.
    op.add_column("sessions", sa.Column("last_seen_at", _TIME, nullable=False, server_default=sa.text("0")))
    op.execute("UPDATE sessions SET last_seen_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("last_seen_at")
