"""DPoP authorization code binding (RFC 9449 section 10): the JWK thumbprint an
authorization request named in dpop_jkt, or the key of the DPoP proof sent with its
pushed request, kept with the code

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing codes are bound to no key (NULL).
    op.add_column("authorization_codes", sa.Column("dpop_jkt", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("authorization_codes") as batch:
        batch.drop_column("dpop_jkt")
