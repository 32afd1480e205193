"""INTERFACE.md section 1: the `tessera` command, run for real as a subprocess.

On a temp SQLite file: every command but serve/demo (tests/e2e), `tokens purge` and
`keys rotate`; `--json` output shapes; domain mistakes (one line on stderr, exit 2);
usage mistakes (the usage message, exit 2); no secret stored in plaintext. On PostgreSQL:
the create commands and a duplicate. And `tessera demo` starts and says how to try it.

A command costs about a second (interpreter and imports), so independent commands run side
by side in module fixtures, and the tests assert on their recorded results.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e import harness
from tests.support import secrets_in

Done = subprocess.CompletedProcess[str]
PASSWORD = harness.PASSWORD
ADMIN = "admin@acme.example"
EVE = "eve@acme.example"


def run(url: str | None, *args: str) -> Done:
    return harness.tessera(url, *args)


def run_all(url: str | None, commands: dict[str, tuple[str, ...]]) -> dict[str, Done]:
    """Independent commands, side by side."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {name: pool.submit(run, url, *args) for name, args in commands.items()}
        return {name: job.result() for name, job in jobs.items()}


def succeeded(done: Done) -> Done:
    assert done.returncode == 0, f"{done.args}: {done.stderr}"
    return done


def names_its_database(done: Done) -> None:
    """On success stderr holds one line, naming the database the command used (an SQLite
    path in full, "(new)" when the command created it), and nothing else."""
    database = done.args[done.args.index("--database-url") + 1] if "--database-url" in done.args else None
    assert re.fullmatch(r"tessera: database \S+( \(new\))?\n", done.stderr), done.stderr
    if database is not None and database.startswith("sqlite:////"):
        assert done.stderr.split()[2] == database, done.stderr


def only_json(done: Done) -> dict[str, Any]:
    """Exactly one JSON object on stdout; stderr only names the database."""
    succeeded(done)
    names_its_database(done)
    body = json.loads(done.stdout)  # fails on anything before or after the one object
    assert isinstance(body, dict)
    assert len(body) == 1
    return body


def client_args(identifier: str, *extra: str, account: str | None = "acme") -> tuple[str, ...]:
    where = ("--account", account) if account else ()
    return ("clients", "create", *where, "--name", f"Client {identifier}", "--identifier", identifier, *extra)


# --- SQLite: the commands that succeed --------------------------------------------------


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "tessera.db"


@pytest.fixture(scope="module")
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture(scope="module")
def made(db_url: str) -> dict[str, Done]:
    """Everything the success tests look at, created in dependency order."""
    results = {"account": succeeded(run(db_url, "accounts", "create", "acme", "--name", "Acme Inc", "--json"))}
    results["admin"] = succeeded(
        run(
            db_url,
            *("users", "create", "--account", "acme", "--email", ADMIN, "--password", PASSWORD),
            *("--role", "admin", "--name", "Ada Admin", "--json"),
        )
    )
    results |= run_all(
        db_url,
        {
            "end_user": ("users", "create", "--account", "acme", "--email", EVE, "--password", PASSWORD, "--json"),
            "plain_account": ("accounts", "create", "noadmin"),
            # INTERFACE.md section 1: only a password under 8 characters is a mistake here.
            "common_password": (
                "users",
                "create",
                "--account",
                "acme",
                "--email",
                "c@acme.example",
                "--password",
                "password123",
                "--json",
            ),
            "web": client_args(
                "web",
                *("--redirect-uri", "https://app.example.com/callback", "--redirect-uri", "http://127.0.0.1/cb"),
                "--json",
            ),
            "spa": client_args("spa", "--kind", "public", "--redirect-uri", "http://localhost:3000/cb", "--json"),
            "global": client_args(
                "platform-app", "--global", "--redirect-uri", "https://global.example.com/cb", "--json", account=None
            ),
            "bounds": client_args(
                "bounds",
                *("--redirect-uri", "https://b.example.com/cb", "--access-token-lifetime", "300"),
                *("--refresh-token-lifetime", "7776000", "--json"),
            ),
            "bounds_high": client_args(
                "bounds-high",
                *("--redirect-uri", "https://b.example.com/cb", "--access-token-lifetime", "172800"),
                *("--refresh-token-lifetime", "604800", "--json"),
            ),
            "never": client_args(
                "never", "--redirect-uri", "https://n.example.com/cb", "--access-token-lifetime", "never", "--json"
            ),
            "web_text": client_args("web-text", "--redirect-uri", "https://text.example.com/cb"),
            # RFC 8628: a TV app needs no redirect URI.
            "tv": client_args("tv", "--kind", "public", "--grant-type", "device_code", "--json"),
        },
    )
    for name in ("end_user", "plain_account", "web"):
        succeeded(results[name])
    results |= run_all(
        db_url,
        {
            "machine": client_args(
                "machine",
                *("--grant-type", "client_credentials", "--owner", EVE, "--introspection"),
                *("--allowed-scope", "read", "--json"),
            ),
            "token": (
                *("tokens", "create", "--account", "acme", "--client", "web", "--user", EVE),
                *("--scopes", "read write", "--json"),
            ),
            "token_text": (
                "tokens",
                "create",
                "--account",
                "acme",
                "--client",
                "web",
                "--user",
                EVE,
                "--scopes",
                "read",
            ),
        },
    )
    succeeded(results["machine"])
    results["machine_token"] = run(
        db_url,
        "tokens",
        "create",
        "--account",
        "acme",
        "--client",
        "machine",
        "--user",
        ADMIN,
        "--scopes",
        "read",
        "--json",
    )
    return results


def obj(made: dict[str, Done], name: str) -> dict[str, Any]:
    body = only_json(made[name])
    return next(iter(body.values()))  # type: ignore[no-any-return]


def test_db_upgrade_on_a_new_file_then_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = run(url, "db", "upgrade")
    second = run(url, "db", "upgrade")
    for done in (first, second):
        assert done.returncode == 0, done.stderr
        assert done.stdout == "database schema is up to date\n"
    assert first.stderr == f"tessera: database {url} (new)\n"
    assert second.stderr == f"tessera: database {url}\n"
    with sqlite3.connect(tmp_path / "fresh.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = conn.execute("SELECT count(*) FROM alembic_version").fetchone()
    conn.close()
    assert {"accounts", "users", "clients", "access_tokens", "refresh_tokens"} <= tables
    assert versions == (1,)


def test_accounts_create_json(made: dict[str, Done]) -> None:
    body = only_json(made["account"])
    assert list(body) == ["account"]
    account = body["account"]
    assert {"id", "subdomain", "name", "url"} <= set(account)
    assert isinstance(account["id"], int)
    assert account["subdomain"] == "acme"
    assert account["name"] == "Acme Inc"
    assert account["url"] == "http://acme.localhost"


def test_accounts_create_without_json_is_one_human_line(made: dict[str, Done]) -> None:
    done = succeeded(made["plain_account"])
    names_its_database(done)
    assert len(done.stdout.splitlines()) == 1
    assert "'noadmin'" in done.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)


def test_users_create_json(made: dict[str, Done]) -> None:
    assert list(only_json(made["admin"])) == ["user"]
    admin = obj(made, "admin")
    assert {"id", "account_id", "email", "name", "role"} <= set(admin)
    assert admin["account_id"] == obj(made, "account")["id"]
    assert admin["email"] == ADMIN
    assert admin["name"] == "Ada Admin"
    assert admin["role"] == "admin"
    assert "password" not in json.dumps(admin)


def test_users_create_defaults_to_end_user(made: dict[str, Done]) -> None:
    eve = obj(made, "end_user")
    assert eve["role"] == "end-user"
    assert eve["email"] == EVE
    assert eve["id"] != obj(made, "admin")["id"]


def test_confidential_client_json_shows_the_whole_secret_once(made: dict[str, Done]) -> None:
    assert list(only_json(made["web"])) == ["client"]
    web = obj(made, "web")
    assert re.fullmatch(r"tss_[A-Za-z0-9_-]{43}", web["secret"]), web["secret"]
    assert isinstance(web["id"], int)
    assert web["identifier"] == "web"
    assert web["name"] == "Client web"
    assert web["redirect_uri"] == ["https://app.example.com/callback", "http://127.0.0.1/cb"]
    assert web["kind"] == "confidential"
    assert web["global"] is False
    assert sorted(web["grant_types"]) == ["authorization_code", "refresh_token"]  # the default
    assert web["user_id"] == obj(made, "admin")["id"]  # the account's earliest admin
    assert web["access_token_lifetime"] == 1800
    assert web["refresh_token_lifetime"] == 2592000
    assert web["access_token_format"] == "opaque"
    assert web["introspection"] is False


def test_client_without_json_prints_its_secret(made: dict[str, Done]) -> None:
    done = succeeded(made["web_text"])
    names_its_database(done)
    assert len(secrets_in(done.stdout, "tss_", 43)) == 1


def test_public_client_has_no_secret(made: dict[str, Done]) -> None:
    spa = obj(made, "spa")
    assert spa["kind"] == "public"
    assert spa["secret"] is None
    assert spa["redirect_uri"] == ["http://localhost:3000/cb"]


def test_a_device_client_is_made_with_the_device_code_grant(made: dict[str, Done]) -> None:
    """INTERFACE.md section 7: clients allowed the device_code grant (RFC 8628)."""
    tv = obj(made, "tv")
    assert tv["grant_types"] == ["device_code"]
    assert tv["kind"] == "public" and tv["redirect_uri"] == []


def test_a_common_password_of_8_characters_or_more_is_taken(made: dict[str, Done]) -> None:
    """The interface's only password mistake is one under 8 characters; strength is judged
    where users choose their own (the password-reset page)."""
    assert obj(made, "common_password")["email"] == "c@acme.example"


def test_global_client_belongs_to_no_account(made: dict[str, Done]) -> None:
    platform = obj(made, "global")
    assert platform["global"] is True
    assert platform["user_id"] is None
    assert platform["secret"].startswith("tss_")
    # No account's clients API serves it, and the platform host has no API: no URL that
    # would answer 404 (each account lists it under global_clients once authorized).
    assert platform["url"] is None


def test_client_credentials_client_with_owner_and_introspection(made: dict[str, Done]) -> None:
    machine = obj(made, "machine")
    assert machine["grant_types"] == ["client_credentials"]
    assert machine["user_id"] == obj(made, "end_user")["id"]
    assert machine["introspection"] is True
    assert machine["allowed_scopes"] == ["read"]
    assert machine["redirect_uri"] == []


def test_lifetime_bounds_are_inclusive_and_never_is_allowed(made: dict[str, Done]) -> None:
    assert obj(made, "bounds")["access_token_lifetime"] == 300
    assert obj(made, "bounds")["refresh_token_lifetime"] == 7776000
    assert obj(made, "bounds_high")["access_token_lifetime"] == 172800
    assert obj(made, "bounds_high")["refresh_token_lifetime"] == 604800
    assert obj(made, "never")["access_token_lifetime"] is None


def test_tokens_create_json(made: dict[str, Done]) -> None:
    assert list(only_json(made["token"])) == ["token"]
    token = obj(made, "token")
    assert re.fullmatch(r"tsa_[A-Za-z0-9_-]{52}", token["full_token"]), token["full_token"]
    assert token["token"] == token["full_token"][:10]
    assert re.fullmatch(r"tsr_[A-Za-z0-9_-]{52}", token["refresh_token"]), token["refresh_token"]
    assert sorted(token["scopes"]) == ["read", "write"]
    assert token["user_id"] == obj(made, "end_user")["id"]
    assert token["client_id"] == obj(made, "web")["id"]


def test_tokens_create_without_refresh_grant_has_no_refresh_token(made: dict[str, Done]) -> None:
    token = obj(made, "machine_token")
    assert token["full_token"].startswith("tsa_")
    assert "refresh_token" not in token
    assert token["user_id"] == obj(made, "admin")["id"]
    assert token["scopes"] == ["read"]


def test_tokens_create_without_json_prints_the_token(made: dict[str, Done]) -> None:
    done = succeeded(made["token_text"])
    assert len(secrets_in(done.stdout, "tsa_", 52)) == 1


def _database_bytes(db_path: Path) -> tuple[bytes, bytes]:
    """(main file after a WAL checkpoint, every file of the database before it)."""
    before = b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*")))
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db_path.read_bytes(), before


def test_secrets_are_not_stored_in_plaintext(made: dict[str, Done], db_path: Path) -> None:
    secrets = [
        obj(made, "web")["secret"],
        obj(made, "global")["secret"],
        obj(made, "machine")["secret"],
        re.findall(r"tss_[A-Za-z0-9_-]{43}", made["web_text"].stdout)[0],
        obj(made, "token")["full_token"],
        obj(made, "token")["refresh_token"],
        obj(made, "machine_token")["full_token"],
        re.findall(r"tsa_[A-Za-z0-9_-]{52}", made["token_text"].stdout)[0],
    ]
    main, everything = _database_bytes(db_path)
    for secret in secrets:
        assert secret.encode() not in everything
        assert secret.encode() not in main
        # The row is there, in this file: under the secret's SHA-256 digest (INTERFACE.md section 3).
        assert hashlib.sha256(secret.encode()).digest() in main
    assert PASSWORD.encode() not in everything
    assert b"$argon2id$" in main


# --- SQLite: domain mistakes and usage mistakes ------------------------------------------

HTTPS_CB = ("--redirect-uri", "https://x.example.com/cb")

# name: (arguments, what the one line on stderr must say)
DOMAIN_MISTAKES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "duplicate-subdomain": (("accounts", "create", "acme"), ("'acme'", "already exists")),
    "bad-subdomain": (("accounts", "create", "Not_A_Label"), ("'Not_A_Label'", "not valid")),
    "unknown-account-users": (
        ("users", "create", "--account", "nope", "--email", "x@acme.example", "--password", PASSWORD),
        ("no account", "'nope'"),
    ),
    "unknown-account-clients": (
        client_args("bad-unknown-account", *HTTPS_CB, account="nope"),
        ("no account", "'nope'"),
    ),
    "unknown-account-tokens": (
        ("tokens", "create", "--account", "nope", "--client", "web", "--user", EVE, "--scopes", "read"),
        ("no account", "'nope'"),
    ),
    "unknown-client": (
        ("tokens", "create", "--account", "acme", "--client", "nope", "--user", EVE, "--scopes", "read"),
        ("no client", "'nope'"),
    ),
    "unknown-user": (
        (
            "tokens",
            "create",
            "--account",
            "acme",
            "--client",
            "web",
            "--user",
            "ghost@acme.example",
            "--scopes",
            "read",
        ),
        ("no user", "'ghost@acme.example'"),
    ),
    "unknown-scope": (
        ("tokens", "create", "--account", "acme", "--client", "web", "--user", EVE, "--scopes", "read bogus"),
        ("bogus",),
    ),
    "unknown-owner": (
        client_args("bad-owner", "--grant-type", "client_credentials", "--owner", "ghost@acme.example"),
        ("no user", "'ghost@acme.example'"),
    ),
    "duplicate-user": (
        ("users", "create", "--account", "acme", "--email", EVE, "--password", PASSWORD),
        (f"'{EVE}'", "already exists"),
    ),
    "duplicate-client": (client_args("web", *HTTPS_CB), ("'web'", "already exists")),
    "redirect-http-not-local": (
        client_args("bad-http", "--redirect-uri", "http://app.example.com/cb"),
        ("'http://app.example.com/cb'", "https"),
    ),
    "redirect-fragment": (
        client_args("bad-fragment", "--redirect-uri", "https://app.example.com/cb#top"),
        ("'https://app.example.com/cb#top'", "fragment"),
    ),
    "redirect-relative": (
        client_args("bad-relative", "--redirect-uri", "/oauth/callback"),
        ("'/oauth/callback'", "absolute"),
    ),
    "redirect-missing": (client_args("bad-no-redirect"), ("at least one redirect URI",)),
    "password-7-characters": (
        ("users", "create", "--account", "acme", "--email", "short@acme.example", "--password", "1234567"),
        ("password", "at least 8 characters"),
    ),
    "access-lifetime-299": (
        client_args("bad-access-low", *HTTPS_CB, "--access-token-lifetime", "299"),
        ("300 to 172800", "299"),
    ),
    "access-lifetime-172801": (
        client_args("bad-access-high", *HTTPS_CB, "--access-token-lifetime", "172801"),
        ("300 to 172800", "172801"),
    ),
    "access-lifetime-word": (
        client_args("bad-access-word", *HTTPS_CB, "--access-token-lifetime", "soon"),
        ("'never'", "'soon'"),
    ),
    "refresh-lifetime-604799": (
        client_args("bad-refresh-low", *HTTPS_CB, "--refresh-token-lifetime", "604799"),
        ("604800 to 7776000", "604799"),
    ),
    "refresh-lifetime-7776001": (
        client_args("bad-refresh-high", *HTTPS_CB, "--refresh-token-lifetime", "7776001"),
        ("604800 to 7776000", "7776001"),
    ),
    "client-credentials-public": (
        client_args("bad-cc-public", "--kind", "public", "--grant-type", "client_credentials"),
        ("public", "client_credentials"),
    ),
    "client-credentials-global": (
        client_args("bad-cc-global", "--global", "--grant-type", "client_credentials", account=None),
        ("global", "client_credentials"),
    ),
    "owner-with-global": (
        client_args("bad-owner-global", "--global", *HTTPS_CB, "--owner", ADMIN, account=None),
        ("global", "--owner"),
    ),
    "introspection-with-global": (
        client_args("bad-introspection-global", "--global", *HTTPS_CB, "--introspection", account=None),
        ("global", "--introspection"),
    ),
    "global-with-account": (client_args("bad-global-account", "--global", *HTTPS_CB), ("--account", "--global")),
    "neither-account-nor-global": (client_args("bad-nowhere", *HTTPS_CB, account=None), ("--account", "--global")),
    "no-admin-to-own-the-client": (
        client_args("bad-no-admin", *HTTPS_CB, account="noadmin"),
        ("'noadmin'", "admin"),
    ),
}

# name: (arguments, what click's "Error:" line must say)
USAGE_MISTAKES: dict[str, tuple[tuple[str, ...], str]] = {
    "missing-password": (
        ("users", "create", "--account", "acme", "--email", "u@acme.example"),
        "Missing option '--password'",
    ),
    "missing-scopes": (
        ("tokens", "create", "--account", "acme", "--client", "web", "--user", EVE),
        "Missing option '--scopes'",
    ),
    "missing-subdomain": (("accounts", "create"), "Missing argument 'SUBDOMAIN'"),
    "bad-role": (
        ("users", "create", "--account", "acme", "--email", "u@acme.example", "--password", PASSWORD, "--role", "boss"),
        "Invalid value for '--role'",
    ),
    "bad-kind": (client_args("bad-kind", *HTTPS_CB, "--kind", "secret"), "Invalid value for '--kind'"),
    "bad-grant-type": (
        client_args("bad-grant", *HTTPS_CB, "--grant-type", "magic"),
        "Invalid value for '--grant-type'",
    ),
    "bad-token-format": (
        client_args("bad-format", *HTTPS_CB, "--access-token-format", "xml"),
        "Invalid value for '--access-token-format'",
    ),
    "refresh-lifetime-not-a-number": (
        client_args("bad-refresh-word", *HTTPS_CB, "--refresh-token-lifetime", "month"),
        "Invalid value for '--refresh-token-lifetime'",
    ),
    "unknown-command": (("frobnicate",), "No such command 'frobnicate'"),
}


@pytest.fixture(scope="module")
def mistakes(made: dict[str, Done], db_url: str) -> dict[str, Done]:
    commands = {name: args for name, (args, _) in DOMAIN_MISTAKES.items()}
    commands |= {name: args for name, (args, _) in USAGE_MISTAKES.items()}
    return run_all(db_url, commands)


# Domain mistakes the CLI does not yet report as one line (see the reasons).
DOMAIN_MISTAKES |= {
    "access-lifetime-superscript-digit": (
        client_args("bad-access-superscript", *HTTPS_CB, "--access-token-lifetime", "\u00b3"),
        ("'\u00b3'",),
    ),
    "name-not-utf8": (("accounts", "create", "badbytes", "--name", "Acme \udcff Inc"), ()),
    "account-name-with-a-newline": (("accounts", "create", "badline", "--name", "Acme\nInc"), ("control characters",)),
    "account-name-with-an-override": (("accounts", "create", "badrlo", "--name", "Acme\u202eInc"), ("U+202E",)),
}


@pytest.mark.parametrize("name", list(DOMAIN_MISTAKES))
def test_domain_mistake_is_one_line_and_exit_2(mistakes: dict[str, Done], name: str) -> None:
    done = mistakes[name]
    expected = DOMAIN_MISTAKES[name][1]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tessera: ")
    for words in expected:
        assert words in lines[0]


@pytest.mark.parametrize("name", list(USAGE_MISTAKES))
def test_usage_mistake_prints_usage_and_exit_2(mistakes: dict[str, Done], name: str) -> None:
    done = mistakes[name]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Usage: tessera ")
    assert f"Error: {USAGE_MISTAKES[name][1]}" in done.stderr


def test_database_url_goes_before_the_command(made: dict[str, Done], db_url: str) -> None:
    done = run(None, "accounts", "create", "late", "--database-url", db_url)
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: tessera accounts create")
    assert "Error: No such option" in done.stderr
    assert "--database-url" in done.stderr.splitlines()[-1]


def test_refused_commands_changed_nothing(mistakes: dict[str, Done], db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        identifiers = {row[0] for row in conn.execute("SELECT identifier FROM clients")}
        subdomains = {row[0] for row in conn.execute("SELECT subdomain FROM accounts")}
        emails = {row[0] for row in conn.execute("SELECT email FROM users")}
    conn.close()
    assert not {i for i in identifiers if i.startswith("bad-")}
    assert subdomains == {"acme", "noadmin"}
    assert emails == {ADMIN, EVE, "c@acme.example"}  # the last made by the success tests


# --- PostgreSQL: the create commands ------------------------------------------------------


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with harness.fresh_database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.mark.postgres
def test_create_commands_on_postgresql(pg_url: str) -> None:
    account = only_json(run(pg_url, "accounts", "create", "pgco", "--name", "PG Co", "--json"))["account"]
    admin_args = ("users", "create", "--account", "pgco", "--email", ADMIN, "--password", PASSWORD, "--role", "admin")
    admin = only_json(run(pg_url, *admin_args, "--json"))["user"]
    later = run_all(
        pg_url,
        {
            "client": client_args("pg-web", "--redirect-uri", "https://pg.example.com/cb", "--json", account="pgco"),
            "duplicate_account": ("accounts", "create", "pgco"),
            "duplicate_user": admin_args,
            "short_password": (
                "users",
                "create",
                "--account",
                "pgco",
                "--email",
                "s@pg.example",
                "--password",
                "short",
            ),
        },
    )
    client = only_json(later["client"])["client"]
    token_args = ("tokens", "create", "--account", "pgco", "--client", "pg-web", "--user", ADMIN, "--scopes", "read")
    token = only_json(run(pg_url, *token_args, "--json"))["token"]
    duplicate_client = run(
        pg_url, *client_args("pg-web", "--redirect-uri", "https://pg.example.com/cb", account="pgco")
    )

    assert account["subdomain"] == "pgco"
    assert account["name"] == "PG Co"
    assert admin["account_id"] == account["id"]
    assert admin["role"] == "admin"
    assert client["secret"].startswith("tss_")
    assert client["user_id"] == admin["id"]
    assert token["full_token"].startswith("tsa_")
    assert token["refresh_token"].startswith("tsr_")
    assert token["client_id"] == client["id"]
    for done, words in (
        (later["duplicate_account"], "already exists"),
        (later["duplicate_user"], "already exists"),
        (later["short_password"], "at least 8 characters"),
        (duplicate_client, "already exists"),
    ):
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert words in done.stderr
        assert "Traceback" not in done.stderr

    with psycopg.connect(pg_url) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dump = "\n".join(
            str(conn.execute(f'SELECT string_agg(t::text, chr(10)) FROM "{table}" t').fetchone()[0]) for table in tables
        )
    for secret in (client["secret"], token["full_token"], token["refresh_token"]):
        assert secret not in dump
        assert hashlib.sha256(secret.encode()).hexdigest() in dump  # bytea prints as \x<hex>


@pytest.mark.postgres
def test_postgresql_without_secret_key_is_one_line(pg_url: str) -> None:
    env = harness.clean_env(None)
    done = harness.tessera(pg_url, "accounts", "create", "nokey", env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "TESSERA_SECRET_KEY" in done.stderr


# --- tessera demo -------------------------------------------------------------------------


def test_demo_prints_credentials_and_serves_the_sample_apps(tmp_path: Path) -> None:
    port, samples_port = harness.free_port(), harness.free_port()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    lines: queue.Queue[str | None] = queue.Queue()
    with (
        (tmp_path / "demo.log").open("wb") as log,
        subprocess.Popen(
            [harness.TESSERA, "--database-url", url, "demo", "--port", str(port), "--samples-port", str(samples_port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=harness.clean_env(url),
            cwd=tmp_path,
        ) as demo,
    ):
        assert demo.stdout is not None
        stdout = demo.stdout

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            printed = _read_instructions(lines, deadline=time.monotonic() + 30)
            secret = re.findall(r"client_secret (tss_[A-Za-z0-9_-]{43})", printed)
            answers = _ask_demo(port, samples_port, secret[0] if secret else "")
        finally:
            harness.stop(demo)
            reader.join(timeout=10)

    assert "admin@example.com" in printed
    assert "tessera-demo" in printed
    # Which database, and a CLI line that works on it from any folder.
    assert f"Database      {url}\n" in printed
    cli_line = re.findall(r"^CLI +(.*)$", printed, re.MULTILINE)
    assert cli_line == [f"TESSERA_DATABASE_URL={url} tessera clients list --account demo"]
    listed = subprocess.run(
        cli_line[0].replace("tessera ", f"{harness.TESSERA} ", 1),
        shell=True,
        capture_output=True,
        text=True,
        env=harness.clean_env(None),
        cwd="/",
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "demo-app" in listed.stdout
    assert f"open http://127.0.0.1:{samples_port}/ and click" in printed
    sign_in, token, callback = answers
    # The sample web app (examples/web_app) starts the authorization code flow with PKCE.
    assert sign_in.status_code == 303
    authorization_url = sign_in.headers["location"]
    assert authorization_url.startswith(f"http://demo.localhost:{port}/oauth/authorizations/new?")
    assert "code_challenge=" in authorization_url
    assert "code_challenge_method=S256" in authorization_url
    assert token.status_code == 200, token.text  # the printed client secret works
    assert callback.status_code == 200
    assert "no authorization code was received" in callback.text  # opened with no parameters


def _read_instructions(lines: queue.Queue[str | None], deadline: float) -> str:
    printed = ""
    while "Press Ctrl+C" not in printed:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, f"tessera demo ended early:\n{printed}"
        printed += line
    return printed


def _ask_demo(port: int, samples_port: int, secret: str) -> tuple[Any, Any, Any]:
    deadline = time.monotonic() + 30
    apps = f"http://127.0.0.1:{samples_port}"
    with harness.http_client() as http:
        while True:
            try:
                sign_in = http.post(f"{apps}/login")
                callback = http.get(f"{apps}/callback")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        token = http.post(
            f"http://demo.localhost:{port}/oauth/tokens",
            auth=("demo-app", secret),
            data={"grant_type": "client_credentials", "scope": "read"},
        )
    return sign_in, token, callback
