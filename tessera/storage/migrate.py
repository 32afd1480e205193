"""Schema migrations with Alembic, driven from code (no alembic.ini to ship or find)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

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
