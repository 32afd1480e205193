"""Schema migrations with Alembic, driven from code (no alembic.ini to ship or find).

Every CLI command and every server start calls `upgrade`, and nearly always the schema is
current already. So `upgrade` first reads the database's revision, one query, and only
when it is not HEAD loads Alembic and the migration scripts: importing Alembic and running
its no-op upgrade was a third of every `tessera` command's 0.7 s.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tessera.settings import sqlite_path
from tessera.storage.engine import create_engine
from tessera.storage.errors import DatabaseErrors, StorageFailed

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions; a new migration changes it
# (tests/storage/test_migrate.py compares it with Alembic's own head).
HEAD = "0019"


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # only when there is a migration to run

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema to the newest revision; safe to run on several nodes at once.
    A database that cannot be reached or refuses raises StorageUnavailable / StorageFailed."""
    if url.startswith("sqlite:///"):
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    try:
        revision = _revision(url)
        if revision == HEAD:
            return
        if revision is not None and revision not in known_revisions():
            raise StorageFailed(
                f"its schema is at revision {revision}, which this Tessera (schema {HEAD}) does not know: "
                "run the Tessera that migrated it, or a newer one"
            )
        from alembic import command  # see the module docstring

        command.upgrade(alembic_config(url), "head")
    except SQLAlchemyError as error:
        dbapi = create_engine(url).dialect.dbapi
        raise DatabaseErrors(dbapi).translate(error)  # noqa: B904 (translate names the cause)


def known_revisions() -> frozenset[str]:
    """The revisions of migrations/versions, by their files' names (0001_initial_schema.py)."""
    return frozenset(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def require_current(url: str) -> None:
    """For a server told not to migrate: the schema must be this Tessera's (StorageFailed)."""
    try:
        revision = _revision(url)
    except SQLAlchemyError as error:
        dbapi = create_engine(url).dialect.dbapi
        raise DatabaseErrors(dbapi).translate(error)  # noqa: B904 (translate names the cause)
    if revision != HEAD:
        raise StorageFailed(
            f"its schema is at revision {revision or '(none)'}, and this Tessera needs {HEAD}: "
            "run 'tessera db upgrade' first, or serve without --no-migrate"
        )


def _revision(url: str) -> str | None:
    """The database's revision, None for a database without Tessera's schema."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revisions = _revisions(connection)
    finally:
        engine.dispose()
    # Alembic keeps one row per head; a single line of migrations has one.
    return revisions[0] if len(revisions) == 1 else None


def _revisions(connection: Connection) -> list[str]:
    """The rows of Alembic's version table; none when there is no such table."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return []
    return list(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def has_schema(url: str) -> bool:
    """Whether the database holds Tessera's schema (Alembic's version table with a revision),
    read without writing: an empty or foreign database answers False. An SQLite file that
    does not exist is opened read-only, so it is not created (the caller checks first)."""
    if url.startswith("sqlite:///"):
        engine = sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True),
            poolclass=NullPool,
        )
    else:
        engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(_revisions(connection))
    except SQLAlchemyError as error:
        raise DatabaseErrors(engine.dialect.dbapi).translate(error)  # noqa: B904 (translate names the cause)
    finally:
        engine.dispose()
