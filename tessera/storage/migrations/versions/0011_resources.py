"""resources: protected resources registered per account (RFC 8707); the audience of
authorization codes, access tokens and refresh tokens

Revision ID: 0011
Revises: 0009 (the lead chains it after 0010 at merge)
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", Id, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("uri", sa.String(2000), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_resources_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("account_id", "uri", name=op.f("uq_resources_account_id_uri")),
    )
    # Every existing code and token is for the account's API: the empty audience.
    for table in ("authorization_codes", "access_tokens", "refresh_tokens"):
        op.add_column(table, sa.Column("audience", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    for table in ("refresh_tokens", "access_tokens", "authorization_codes"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("audience")
    op.drop_table("resources")
