"""Schema migrations with Alembic, driven from code (no alembic.ini to ship or find)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tessera.settings import sqlite_path
from tessera.storage.engine import create_engine
from tessera.storage.errors import DatabaseErrors

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
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
        command.upgrade(alembic_config(url), "head")
    except SQLAlchemyError as error:
        dbapi = create_engine(url).dialect.dbapi
        raise DatabaseErrors(dbapi).translate(error)  # noqa: B904 (translate names the cause)


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
            if not sa.inspect(connection).has_table("alembic_version"):
                return False
            revisions: int = connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one()
            return revisions > 0
    except SQLAlchemyError as error:
        raise DatabaseErrors(engine.dialect.dbapi).translate(error)  # noqa: B904 (translate names the cause)
    finally:
        engine.dispose()
