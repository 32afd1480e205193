"""`tessera clients list|show|rotate-secret|delete --global`: a global client (INTERFACE.md
section 1, `clients create --global`) belongs to no account, so the commands that take
`--account` take `--global` instead; without them a leaked secret of a global client
could not be replaced, nor the client retired."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import client_args, only_json, run, succeeded
from tests.e2e import harness
from tests.support import secrets_in

HTTPS_CB = ("--redirect-uri", "https://global.example.com/cb")


@pytest.fixture
def url(seeded: Path, tmp_path: Path) -> str:
    """The seeded database (account acme, its admin, its client jw) with two global clients,
    one holding a token on acme; a copy per test, as the tests change it."""
    folder = tmp_path / "copy"
    shutil.copytree(seeded.parent, folder)  # with the secret key file beside the database
    database = f"sqlite:///{folder / seeded.name}"
    for identifier in ("platform-one", "platform-two"):
        succeeded(run(database, *client_args(identifier, *HTTPS_CB, account=None), "--global"))
    token = ("tokens", "create", "--account", "acme", "--client", "platform-one", "--user", "a@acme.example")
    succeeded(run(database, *token, "--scopes", "read"))
    return database


def _row(url: str, sql: str) -> tuple[object, ...] | None:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        row = conn.execute(sql).fetchone()
    conn.close()
    return None if row is None else tuple(row)


def test_list_global_shows_the_global_clients_and_no_accounts(url: str) -> None:
    listed = only_json(run(url, "clients", "list", "--global", "--json"))["clients"]
    assert [client["identifier"] for client in listed] == ["platform-one", "platform-two"]
    assert all(client["global"] and client["url"] is None for client in listed)
    text = succeeded(run(url, "clients", "list", "--global")).stdout
    assert "platform-one" in text and "jw" not in text
    own = only_json(run(url, "clients", "list", "--account", "acme", "--json"))["clients"]
    assert [client["identifier"] for client in own] == ["jw"]


def test_show_global_is_the_client_without_its_secret(url: str) -> None:
    client = only_json(run(url, "clients", "show", "--global", "platform-one", "--json"))["client"]
    assert client["identifier"] == "platform-one"
    assert client["global"] is True
    assert client["url"] is None  # no account's API serves a global client
    assert len(client["secret"]) == 9


def test_rotate_secret_global_replaces_the_secret(url: str) -> None:
    """The old secret may keep working a while, as for an account's client."""
    rotate = ("clients", "rotate-secret", "--global", "platform-one", "--previous-secret-expires-in", "600")
    done = succeeded(run(url, *rotate))
    (secret,) = secrets_in(done.stdout, "tss_", 43)
    assert "the previous secret keeps working for 600 seconds" in done.stdout
    stored = _row(
        url,
        "SELECT secret_hash, previous_secret_hash, previous_secret_expires_at FROM clients WHERE identifier = 'platform-one'",
    )
    assert stored is not None
    assert bytes(stored[0]) == hashlib.sha256(secret.encode()).digest()  # type: ignore[arg-type]
    assert stored[1] is not None
    assert abs(float(stored[2]) - (time.time() + 600)) < 120  # type: ignore[arg-type]


def test_update_global_changes_only_what_was_given(url: str) -> None:
    update = ("clients", "update", "--global", "platform-two", "--name", "Platform Two", "--new-identifier", "p2")
    client = only_json(run(url, *update, "--json"))["client"]
    assert (client["name"], client["identifier"], client["global"]) == ("Platform Two", "p2", True)
    assert client["redirect_uri"] == ["https://global.example.com/cb"]
    refused = run(url, "clients", "update", "--global", "p2", "--grant-type", "client_credentials")
    assert refused.returncode == 2
    assert "client_credentials" in refused.stderr and refused.stderr.count("\n") == 1
    public = succeeded(run(url, "clients", "update", "--global", "p2", "--kind", "public"))
    assert "updated client 'p2'" in public.stdout
    made = succeeded(run(url, "clients", "update", "--global", "p2", "--kind", "confidential")).stdout
    assert "'tessera clients rotate-secret --global p2'" in made


def test_delete_global_removes_the_client_and_its_tokens_in_every_account(url: str) -> None:
    assert _row(
        url,
        "SELECT count(*) FROM access_tokens t JOIN clients c ON c.id = t.client_id WHERE c.identifier = 'platform-one'",
    ) == (1,)
    done = succeeded(run(url, "clients", "delete", "--global", "platform-one"))
    assert "revoked in every account" in done.stdout
    assert _row(url, "SELECT id FROM clients WHERE identifier = 'platform-one'") is None
    assert _row(url, "SELECT count(*) FROM access_tokens") == (0,)
    assert _row(url, "SELECT id FROM clients WHERE identifier = 'platform-two'") is not None
    gone = run(url, "clients", "show", "--global", "platform-one")
    assert gone.returncode == 2
    assert "no global client with identifier 'platform-one'" in gone.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("clients", "delete", "platform-one", "--global", "--account", "acme"), "omit --account with --global"),
        (("clients", "delete", "platform-one"), "--account SUBDOMAIN is required (or --global"),
        (("clients", "list"), "--account SUBDOMAIN is required (or --global"),
    ],
)
def test_naming_both_or_neither_is_a_usage_mistake(url: str, args: tuple[str, ...], says: str) -> None:
    done = run(url, *args)
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith("Usage: tessera ")
    assert says in done.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("clients", "rotate-secret", "--global", "jw"), "no global client with identifier 'jw'"),
        # An account's client is not reached through --global, nor a global one through --account.
        (("clients", "show", "--account", "acme", "platform-one"), "no client with identifier 'platform-one'"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(url: str, args: tuple[str, ...], says: str) -> None:
    done = run(url, *args)
    assert done.returncode == 2, done.stdout
    assert says in done.stderr
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert json.dumps(harness.PASSWORD) not in done.stderr
