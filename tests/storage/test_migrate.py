"""storage/migrate.py: `upgrade` brings any database to the newest revision, and on a
database that is there already it answers from one query, without loading Alembic (every
CLI command and every server start calls it)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from tessera.storage import migrate
from tessera.storage.engine import create_engine


def _set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def test_head_is_the_newest_migration() -> None:
    """A new migration must move HEAD, or `upgrade` would never run it on a database
    that has the previous one."""
    assert ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head() == migrate.HEAD


def test_an_empty_database_is_migrated_to_head(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert migrate._revision(empty_url) == migrate.HEAD
    assert migrate.has_schema(empty_url)


def test_a_current_database_does_not_run_alembic(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate.upgrade(empty_url)
    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda config, revision: calls.append(revision))
    migrate.upgrade(empty_url)
    assert calls == []


def test_a_database_behind_head_runs_alembic(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate.upgrade(empty_url)
    _set_revision(empty_url, "0015")
    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda config, revision: calls.append(revision))
    migrate.upgrade(empty_url)
    assert calls == ["head"]
