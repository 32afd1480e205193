"""high-assurance clients: require_par, require_dpop and jwks on clients; the used_once
table of values presented once (DPoP proof and client assertion jtis)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing clients keep today's behaviour: no PAR or DPoP required, no key set.
    op.add_column("clients", sa.Column("require_par", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("clients", sa.Column("require_dpop", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("clients", sa.Column("jwks", sa.Text(), nullable=True))
    op.create_table(
        "used_once",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column("expires_at", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_used_once_expires_at", "used_once", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_once_expires_at", table_name="used_once")
    op.drop_table("used_once")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("jwks")
        batch.drop_column("require_dpop")
        batch.drop_column("require_par")
