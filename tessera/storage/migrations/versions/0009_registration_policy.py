"""accounts.registration_policy: who may register clients dynamically (RFC 7591);
clients.registration: how a client came to be (admin, dynamic, metadata_document)

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
    # Every existing client was made by an admin.
    op.add_column("clients", sa.Column("registration", sa.String(24), nullable=False, server_default="admin"))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("registration")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("registration_policy")
