"""A database the command cannot use as it is: one line on stderr that says what to do,
never a traceback (INTERFACE.md section 1). SQLite here; a PostgreSQL URL's own mistakes
are refused before any connection."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.e2e import harness

WRONG_KEY = "w" * 48


def one_line(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def copy_of(seeded: Path, tmp_path: Path, with_key: bool = True) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copy(seeded, copy)
    if with_key:
        shutil.copy(seeded.with_name(seeded.name + ".secret_key"), copy.with_name(copy.name + ".secret_key"))
    return copy


def test_a_database_of_a_newer_schema_is_named_as_such(seeded: Path, tmp_path: Path) -> None:
    copy = copy_of(seeded, tmp_path)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.close()
    url = f"sqlite:///{copy}"
    for args in (("users", "list", "--account", "acme"), ("db", "upgrade")):
        one_line(harness.tessera(url, *args), 1, "revision 0999", "does not know")


def test_serve_without_migrating_refuses_a_schema_not_its_own(seeded: Path, tmp_path: Path) -> None:
    copy = copy_of(seeded, tmp_path)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.close()
    done = harness.tessera(f"sqlite:///{copy}", "serve", "--no-migrate", "--port", "1")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "revision 0001" in done.stderr and "tessera db upgrade" in done.stderr


def test_a_database_without_its_secret_key_file_gets_no_new_one(seeded: Path, tmp_path: Path) -> None:
    """The key encrypts the stored signing keys: a new one could not read them."""
    copy = copy_of(seeded, tmp_path, with_key=False)
    one_line(harness.tessera(f"sqlite:///{copy}", "users", "list", "--account", "acme"), 2, "no secret key file")
    assert not copy.with_name(copy.name + ".secret_key").exists()


def test_a_wrong_secret_key_is_named_not_a_traceback(seeded: Path, tmp_path: Path) -> None:
    copy = copy_of(seeded, tmp_path)
    env = {**harness.clean_env(), "TESSERA_SECRET_KEY": WRONG_KEY}
    url = f"sqlite:///{copy}"
    token = harness.tessera(
        url,
        "tokens",
        "create",
        "--account",
        "acme",
        "--client",
        "jw",
        "--user",
        "a@acme.example",
        "--scopes",
        "read",
        env=env,
    )
    one_line(token, 2, "cannot be decrypted with this secret key")
    # Nor does a rotation seal new keys under it beside the old ones.
    one_line(harness.tessera(url, "keys", "rotate", "--account", "acme", env=env), 2, "cannot be decrypted")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///", ("names no file",)),
        ("postgresql://postgres@127.0.0.1:notaport/x", ("cannot be read", "postgresql://user@host:port/database")),
        ("postgresql://postgres:hunter2@[::1:5432/db", ("cannot be read", "***")),
        # Given with --database-url, the message names no environment variable, and masks the password.
        ("mysql://root:hunter2@localhost/x", ("the database URL 'mysql://root:***@localhost/x' is not supported",)),
    ],
)
def test_an_unreadable_database_url_is_one_line(url: str, words: tuple[str, ...]) -> None:
    env = {**harness.clean_env(), "TESSERA_SECRET_KEY": WRONG_KEY}
    line = one_line(harness.tessera(url, "users", "list", "--account", "acme", env=env), 2, *words)
    assert "hunter2" not in line and "TESSERA_DATABASE_URL" not in line


def test_a_secret_key_path_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    one_line(harness.tessera(f"sqlite:///{blocker}/x.db", "db", "upgrade"), 2, "could not be read or written")
