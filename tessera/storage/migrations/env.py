"""Alembic environment: online migrations only, serialised across nodes on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from tessera.storage.engine import create_engine
from tessera.storage.schema import metadata

# Any constant works; it only has to be the same on every node.
_MIGRATION_LOCK = 0x7E55E4A


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # Many stateless nodes may start together; one migrates, the others wait.
                conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
                conn.commit()
            try:
                context.configure(
                    connection=conn, target_metadata=metadata, render_as_batch=conn.dialect.name == "sqlite"
                )
                with context.begin_transaction():
                    context.run_migrations()
                conn.commit()
            finally:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                    conn.commit()
    finally:
        engine.dispose()


run()
