"""DPoP (RFC 9449): the JWK thumbprint (jkt) an access token, or a public client's refresh
token, is bound to

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
# The lead sets this to "0014" when merging (the branch adding 0014 lands first).
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing tokens stay bearer tokens (NULL: not bound to a key).
    op.add_column("access_tokens", sa.Column("jkt", sa.String(64), nullable=True))
    op.add_column("refresh_tokens", sa.Column("jkt", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("jkt")
    with op.batch_alter_table("access_tokens") as batch:
        batch.drop_column("jkt")
