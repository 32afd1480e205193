"""Changes to remembered rows are written down, so that every process forgets them at once

Serving processes remember accounts, clients, users and signing keys for a while
(storage/cache.py, key_ring.py). A change made by another process (the CLI, another
worker or node) used to be seen only when that memory expired, up to 2 seconds later (60
for signing keys): a secret rotated with `tessera clients rotate-secret` was refused, and
the old one accepted, for that long. Now a trigger adds a row to `changes` in the
transaction of every change to those tables; each process looks at `changes` every few
milliseconds (storage/changes.py) and forgets what it remembered when it grew.

One row per change, never an update of a shared counter: on PostgreSQL concurrent
transactions would queue for the counter's row lock, and two that change two tables in
opposite orders could deadlock. New rows only (no inserts watched but signing keys'): a
row that was not there was never remembered.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.Float(precision=53)

# Table -> the statements whose changes are written down.
WATCHED = {
    "accounts": ("UPDATE", "DELETE"),
    "clients": ("UPDATE", "DELETE"),
    "users": ("UPDATE", "DELETE"),
    "signing_keys": ("INSERT", "UPDATE", "DELETE"),
}


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tessera_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO changes (at) VALUES (extract(epoch FROM clock_timestamp())); RETURN NULL; END $$"
        )
        for table, events in WATCHED.items():
            op.execute(
                f"CREATE TRIGGER changed_{table} AFTER {' OR '.join(events)} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tessera_changed()"
            )
        return
    for table, events in WATCHED.items():
        for event in events:
            op.execute(
                f"CREATE TRIGGER changed_{table}_{event.lower()} AFTER {event} ON {table} BEGIN "  # noqa: S608 (WATCHED's names)
                "INSERT INTO changes (at) VALUES ((julianday('now') - 2440587.5) * 86400.0); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER changed_{table} ON {table}")
        op.execute("DROP FUNCTION tessera_changed()")
    else:
        for table, events in WATCHED.items():
            for event in events:
                op.execute(f"DROP TRIGGER changed_{table}_{event.lower()}")
    op.drop_table("changes")
