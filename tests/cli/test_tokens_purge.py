"""`tessera tokens purge` (INTERFACE.md section 1): removes expired and revoked rows, in batches.

Runs the installed console script against a fresh SQLite database, seeded through the
CLI itself and then aged with sqlite3 (the rows a purge removes are the ones real time
has made dead, and a test cannot wait hours).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

TESSERA = str(Path(sys.executable).with_name("tessera"))
HOUR = 3600


def _run(url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")} | settings
    return subprocess.run(
        [TESSERA, "--database-url", url, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _ok(url: str, *args: str) -> str:
    done = _run(url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _json(url: str, *args: str) -> dict[str, Any]:
    return json.loads(_ok(url, *args, "--json"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A database with an account, an admin, a client and four tokens, built once per module."""
    path = tmp_path_factory.mktemp("purge") / "tessera.db"
    url = f"sqlite:///{path}"
    _ok(url, "db", "upgrade")
    _json(url, "accounts", "create", "acme")
    _json(
        url,
        "users",
        "create",
        "--account",
        "acme",
        "--email",
        "ada@example.com",
        "--password",
        "correct horse",
        "--role",
        "admin",
    )
    _json(
        url, "clients", "create", "--account", "acme", "--name", "Web", "--identifier", "web",
        "--redirect-uri", "https://app.example.com/cb",
    )  # fmt: skip
    tokens = [
        _json(
            url,
            "tokens",
            "create",
            "--account",
            "acme",
            "--client",
            "web",
            "--user",
            "ada@example.com",
            "--scopes",
            "read",
        )["token"]
        for _ in range(4)
    ]
    return path, tokens


@pytest.fixture
def seeded(template: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> tuple[str, Path, list[dict[str, Any]]]:
    """A private copy of the template database (and the secret key kept beside it)."""
    source, tokens = template
    path = tmp_path / source.name
    shutil.copyfile(source, path)
    shutil.copyfile(source.with_name(source.name + ".secret_key"), path.with_name(path.name + ".secret_key"))
    return f"sqlite:///{path}", path, tokens


def _rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(query).fetchall()


def _ids(path: Path, table: str) -> set[int]:
    return {row[0] for row in _rows(path, f"SELECT id FROM {table}")}


def test_purge_removes_dead_rows_and_keeps_the_rest(seeded: tuple[str, Path, list[dict[str, Any]]]) -> None:
    url, path, tokens = seeded
    revoked_long_ago, expired_long_ago, revoked_recently, live = (t["id"] for t in tokens)
    now = time.time()
    with closing(sqlite3.connect(path)) as conn, conn:
        # a revoked family: access and refresh token revoked two hours ago
        conn.execute("UPDATE access_tokens SET revoked_at = ? WHERE id = ?", (now - 2 * HOUR, revoked_long_ago))
        conn.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE access_token_id = ?", (now - 2 * HOUR, revoked_long_ago)
        )
        # an access token that expired two hours ago (its refresh token lives on)
        conn.execute("UPDATE access_tokens SET expires_at = ? WHERE id = ?", (now - 2 * HOUR, expired_long_ago))
        # revoked ten minutes ago: kept for the retention hour
        conn.execute("UPDATE access_tokens SET revoked_at = ? WHERE id = ?", (now - 600, revoked_recently))
        conn.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE access_token_id = ?", (now - 600, revoked_recently)
        )
        # a session that ended two hours ago, a live one, and a throttle counter whose run is over
        for expires_at in (now - 2 * HOUR, now + HOUR):
            conn.execute(
                "INSERT INTO sessions (digest, account_id, user_id, auth_time, created_at, expires_at)"
                " VALUES (randomblob(32), 1, 1, ?, ?, ?)",
                (expires_at - HOUR, expires_at - HOUR, expires_at),
            )
        conn.execute(
            "INSERT INTO throttles (kind, key, failures, blocked_until, resets_at, admitted) VALUES (?, ?, 3, ?, ?, 1)",
            ("sign_in_email", "1:eve@example.com", now - 2 * HOUR, now - HOUR),
        )
    refresh_before = dict(_rows(path, "SELECT id, access_token_id FROM refresh_tokens"))

    done = _run(url, "tokens", "purge")

    assert done.returncode == 0, done.stderr
    assert done.stderr == f"tessera: database {url}\n"
    out = done.stdout.strip()
    assert out.startswith("purged 5 rows ("), out
    for part in ("1 refresh_tokens", "2 access_tokens", "0 authorization_codes", "1 sessions", "1 throttles"):
        assert part in out, out
    assert _ids(path, "access_tokens") == {revoked_recently, live}
    kept_refresh = {row_id for row_id, access_id in refresh_before.items() if access_id != revoked_long_ago}
    assert _ids(path, "refresh_tokens") == kept_refresh
    assert len(_ids(path, "sessions")) == 1
    assert _rows(path, "SELECT key FROM throttles") == []
    # no full token reaches the output
    assert all(t["full_token"] not in done.stdout for t in tokens)


def test_a_second_purge_finds_nothing(seeded: tuple[str, Path, list[dict[str, Any]]]) -> None:
    url, path, tokens = seeded
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE access_tokens SET expires_at = ? WHERE id = ?", (time.time() - 2 * HOUR, tokens[0]["id"]))
    assert _ok(url, "tokens", "purge").startswith("purged 1 rows (")
    assert _ok(url, "tokens", "purge").startswith("purged 0 rows (")
    assert _ids(path, "access_tokens") == {t["id"] for t in tokens[1:]}


def test_purge_on_a_fresh_database_purges_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _ok(url, "db", "upgrade")
    done = _run(url, "tokens", "purge")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "purged 0 rows (0 refresh_tokens, 0 access_tokens, 0 authorization_codes, 0 device_codes, 0 pushed_requests, "
        "0 sessions, 0 throttles, 0 used_once, 0 signing_keys, 0 changes, 0 audit_logs, 0 registration_tokens, "
        "0 password_resets)"
    )


def test_purge_keeps_audit_entries_for_the_configured_days(seeded: tuple[str, Path, list[dict[str, Any]]]) -> None:
    """INTERFACE.md section 6: entries older than TESSERA_AUDIT_LOG_RETENTION_DAYS are purged,
    by `tessera tokens purge` as by the server's periodic purge."""
    url, path, _ = seeded
    day = 24 * HOUR
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM audit_logs")
        for age_days in (3, 10, 400):
            conn.execute(
                "INSERT INTO audit_logs (account_id, actor_name, source_type, source_label, action,"
                " change_description, created_at) VALUES (1, 'Tessera', 'user', 'x', 'update', ?, ?)",
                (f"{age_days} days old", time.time() - age_days * day),
            )
    kept = "SELECT change_description FROM audit_logs ORDER BY created_at DESC"
    assert _run(url, "tokens", "purge").returncode == 0
    assert [row[0] for row in _rows(path, kept)] == ["3 days old", "10 days old"]
    done = _run(url, "tokens", "purge", TESSERA_AUDIT_LOG_RETENTION_DAYS="7")
    assert done.returncode == 0, done.stderr
    assert [row[0] for row in _rows(path, kept)] == ["3 days old"]
    refused = _run(url, "tokens", "purge", TESSERA_AUDIT_LOG_RETENTION_DAYS="a week")
    assert refused.returncode != 0
    assert "whole number of days" in refused.stderr
