"""How the CLI shows a database URL (cli/where.py): SQLite paths absolute, PostgreSQL
passwords masked, whatever characters they hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.cli import where


def test_a_relative_sqlite_path_is_shown_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert where.display_url("sqlite:///./tessera.db") == f"sqlite:///{tmp_path / 'sub' / 'tessera.db'}"
    assert where.display_url("sqlite:///../x.db") == f"sqlite:///{tmp_path / 'x.db'}"
    assert where.display_url("sqlite:////srv/t.db") == "sqlite:////srv/t.db"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:secret@db:5432/t", "postgresql://u:***@db:5432/t"),
        ("postgresql+psycopg://u:p%40ss%3Aw@db/t?sslmode=require", "postgresql://u:***@db/t?sslmode=require"),
        ("postgresql+psycopg://u@db/t", "postgresql://u@db/t"),
        ("postgresql+psycopg://db/t", "postgresql://db/t"),
    ],
)
def test_a_postgres_password_is_masked(url: str, shown: str) -> None:
    assert where.display_url(url) == shown


def test_the_demo_line_works_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = where.demo_lines("sqlite:///./tessera.db", "demo").strip().splitlines()
    assert lines == [
        f"Database      sqlite:///{tmp_path / 'tessera.db'}",
        f"CLI           TESSERA_DATABASE_URL=sqlite:///{tmp_path / 'tessera.db'} tessera clients list --account demo",
    ]
