"""A `tessera` command loads only what it uses: the commands' modules are imported when
the command runs, the schema check reads the revision without Alembic when the database is
current, and an SQLite database never loads the PostgreSQL driver. Each of these was a
share of every command's start-up (0.58 s of CPU before, 0.35 s after, for `clients list`).
Checked in a fresh interpreter, as a user runs it. (`tessera --help` itself loads every
command, to show each one's summary.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic import command

from tessera.storage import migrate
from tests.e2e import harness

HEAVY = ("alembic", "uvicorn", "starlette", "aiosmtpd", "asyncpg", "jinja2")

PROBE = """
import json, sys
from tessera.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="tessera")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "loaded": sorted(m for m in %r if m in sys.modules)}))
"""


def _loaded(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        env=harness.clean_env(),
        timeout=60,
        check=False,
    )
    last = done.stdout.strip().splitlines()[-1]
    result: dict[str, object] = json.loads(last)
    return result


def test_a_command_groups_help_loads_no_server_and_no_migrations() -> None:
    assert _loaded("clients", "--help") == {"code": 0, "loaded": []}


def test_a_command_on_a_current_sqlite_database_loads_neither_alembic_nor_the_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    created = harness.tessera(url, "accounts", "create", "acme")
    assert created.returncode == 0, created.stderr
    assert _loaded("--database-url", url, "clients", "list", "--account", "acme") == {"code": 0, "loaded": []}


def test_a_database_behind_the_code_is_still_migrated_by_a_command(tmp_path: Path) -> None:
    """The other side of the shortcut: a database at an older revision gets Alembic."""
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    assert harness.tessera(url, "accounts", "create", "acme").returncode == 0
    command.downgrade(migrate.alembic_config(url), "-1")
    assert migrate._revision(url) != migrate.HEAD
    result = _loaded("--database-url", url, "clients", "list", "--account", "acme")
    assert result == {"code": 0, "loaded": ["alembic"]}
    assert migrate._revision(url) == migrate.HEAD
