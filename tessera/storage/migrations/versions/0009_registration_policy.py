"""accounts.registration_policy: who may register clients dynamically (RFC 7591)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing account keeps registration off until an admin opens it.
    op.add_column("accounts", sa.Column("registration_policy", sa.String(8), nullable=False, server_default="off"))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("registration_policy")
