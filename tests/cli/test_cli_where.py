"""The CLI says which database it works on and never creates one by accident.

Every command names its database on stderr (an SQLite path made absolute, a PostgreSQL
password masked); only `db upgrade`, `serve`, `demo` and `accounts create` may create a
database; any other command pointed at a missing SQLite file (or folder), or at a database
without Tessera's schema, exits 2 with one line saying where it looked and what to do.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e import harness

Done = subprocess.CompletedProcess[str]

# A password in the PostgreSQL URL (the test server trusts any): it must never be shown.
PG_PASSWORD = "pg-hunter2-secret"


def tessera(cwd: Path, *args: str, database_url: str | None = None, stdin: str | None = None) -> Done:
    """The real command, run in `cwd` (where a relative SQLite path points)."""
    return subprocess.run(
        [harness.TESSERA, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=harness.clean_env(database_url),
        cwd=cwd,
        timeout=60,
        check=False,
    )


def one_line(done: Done) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# --- SQLite ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("clients", "list", "--account", "acme"),
        ("users", "create", "--account", "acme", "--email", "a@example.com", "--password", "long enough"),
        ("tokens", "purge"),
        ("keys", "rotate", "--account", "acme"),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_command_in_a_folder_without_a_database_says_where_it_looked(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    line = one_line(tessera(tmp_path, *command))
    assert f"there is no database at {tmp_path / 'tessera.db'}" in line
    assert f"tessera --database-url sqlite:///{tmp_path / 'tessera.db'} db upgrade" in line
    assert "TESSERA_DATABASE_URL" in line and "--database-url URL" in line
    assert list(tmp_path.iterdir()) == []  # no database, no key file


def test_a_database_url_into_a_missing_folder_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}"
    line = one_line(tessera(tmp_path, "--database-url", url, "users", "list", "--account", "acme"))
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in line
    assert not (tmp_path / "nowhere").exists()


def test_a_relative_path_is_shown_absolute_and_a_new_database_says_so(tmp_path: Path) -> None:
    created = tessera(tmp_path, "--database-url", "sqlite:///data.db", "accounts", "create", "acme")
    assert created.returncode == 0, created.stderr
    assert created.stderr == f"tessera: database sqlite:///{tmp_path / 'data.db'} (new)\n"
    listed = tessera(tmp_path, "--database-url", "sqlite:///data.db", "clients", "list", "--account", "acme")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == f"tessera: database sqlite:///{tmp_path / 'data.db'}\n"
    # The default, ./tessera.db, is a relative path too.
    default = tessera(tmp_path, "accounts", "create", "beta")
    assert default.stderr == f"tessera: database sqlite:///{tmp_path / 'tessera.db'} (new)\n"


def test_a_mistake_names_the_database_in_its_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert tessera(tmp_path, "--database-url", url, "accounts", "create", "acme").returncode == 0
    line = one_line(tessera(tmp_path, "--database-url", url, "accounts", "create", "acme"))
    assert "'acme' already exists" in line
    assert line.endswith(f"(database {url})")


def test_an_sqlite_file_without_the_schema_is_refused_untouched(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    line = one_line(tessera(tmp_path, "--database-url", url, "clients", "list", "--account", "acme"))
    assert f"the database {url} has no Tessera schema" in line
    assert f"tessera --database-url {url} db upgrade" in line
    assert (tmp_path / "empty.db").stat().st_size == 0
    # db upgrade is the way out, as the message says.
    assert tessera(tmp_path, "--database-url", url, "db", "upgrade").returncode == 0
    after = one_line(tessera(tmp_path, "--database-url", url, "clients", "list", "--account", "acme"))
    assert "schema" not in after and "'acme'" in after  # now only the account is missing


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database, reached through a URL that carries a password."""
    with harness.fresh_database("postgresql", Path()) as url:
        yield url.replace("postgresql://postgres@", f"postgresql://postgres:{PG_PASSWORD}@", 1)


def test_postgres_without_the_schema_is_refused_and_its_password_masked(empty_postgres: str) -> None:
    shown = empty_postgres.replace(PG_PASSWORD, "***")
    done = tessera(
        Path("/"), "--database-url", empty_postgres, "users", "list", "--account", "acme", database_url=empty_postgres
    )
    line = one_line(done)
    assert f"the database {shown} has no Tessera schema" in line
    assert "db upgrade" in line
    assert PG_PASSWORD not in done.stderr + done.stdout
    with psycopg.connect(empty_postgres) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert tables == (0,)


def test_postgres_commands_name_the_database_with_the_password_masked(empty_postgres: str) -> None:
    shown = empty_postgres.replace(PG_PASSWORD, "***")
    for command in (("accounts", "create", "acme"), ("clients", "list", "--account", "acme")):
        done = tessera(Path("/"), "--database-url", empty_postgres, *command, database_url=empty_postgres)
        assert done.returncode == 0, done.stderr
        assert done.stderr == f"tessera: database {shown}\n"
        assert PG_PASSWORD not in done.stdout


def test_an_unreachable_postgres_is_named_masked(tmp_path: Path) -> None:
    url = f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:5432/tessera_no_such_database"
    done = tessera(tmp_path, "--database-url", url, "clients", "list", "--account", "acme", database_url=url)
    assert done.returncode == 1, done.stderr
    assert re.fullmatch(
        r"tessera: the database postgresql://postgres:\*\*\*@127\.0\.0\.1:5432/tessera_no_such_database could not be used: .*\n",
        done.stderr,
    ), done.stderr
