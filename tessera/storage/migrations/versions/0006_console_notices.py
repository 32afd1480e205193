"""console notices: one-time messages for a session's next console page

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "console_notices",
        sa.Column("id", _ID, nullable=False),
        sa.Column("session_id", _ID, nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_console_notices_session_id_sessions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_notices")),
    )
    op.create_index("ix_console_notices_expires_at", "console_notices", ["expires_at"])
    op.create_index("ix_console_notices_session_id", "console_notices", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_console_notices_session_id", table_name="console_notices")
    op.drop_index("ix_console_notices_expires_at", table_name="console_notices")
    op.drop_table("console_notices")
