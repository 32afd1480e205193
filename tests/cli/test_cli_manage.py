"""INTERFACE.md section 6, CLI: `tessera clients list|show|update|delete|rotate-secret` and
`tessera users list|update`, run for real as subprocesses, with section 1's rules: `--json`
prints exactly one object wrapped as the API wraps it; a domain mistake is one line on
stderr and exit 2; a usage mistake is click's usage message and exit 2; never a traceback.

Clients are named by `--identifier` (as `clients create` takes it) or a bare argument;
users by `--email` or a bare argument. Independent commands run side by side.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import ADMIN, EVE, PASSWORD, Done, client_args, only_json, run, run_all, succeeded
from tests.e2e import harness
from tests.support import secrets_in

HTTPS_CB = ("--redirect-uri", "https://x.example.com/cb")
SAM = "sam@acme.example"
ALL_CLIENTS = ("web", "spa", "upd", "ren", "roll", "roll0", "gone", "bad", "spa2")


def setup_account(url: str) -> None:
    succeeded(run(url, "accounts", "create", "acme"))
    admin = ("users", "create", "--account", "acme", "--email", ADMIN, "--password", PASSWORD, "--role", "admin")
    succeeded(run(url, *admin))
    commands = {
        f"user-{email}": ("users", "create", "--account", "acme", "--email", email, "--password", PASSWORD)
        for email in (EVE, SAM)
    }
    for identifier in ALL_CLIENTS:
        kind = ("--kind", "public") if identifier.startswith("spa") else ()
        commands[identifier] = client_args(identifier, *HTTPS_CB, *kind)
    for name, done in run_all(url, commands).items():
        assert done.returncode == 0, (name, done.stderr)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-manage") / "tessera.db"


@pytest.fixture(scope="module")
def results(db_path: Path) -> dict[str, Done]:
    """Every command the tests look at: reads, then changes to distinct records, then the
    reads that see the changes."""
    url = f"sqlite:///{db_path}"
    setup_account(url)
    done = run_all(url, {**READS, **CHANGES, **{name: args for name, (args, _) in MISTAKES.items()}})
    done |= run_all(url, {**USAGE, **AFTER})
    return done


def body(results: dict[str, Done], name: str, key: str) -> Any:
    document = only_json(results[name])
    assert list(document) == [key]
    return document[key]


READS: dict[str, tuple[str, ...]] = {
    "clients-list": ("clients", "list", "--account", "acme", "--json"),
    "clients-list-text": ("clients", "list", "--account", "acme"),
    "show-option": ("clients", "show", "--account", "acme", "--identifier", "web", "--json"),
    "show-argument": ("clients", "show", "web", "--account", "acme", "--json"),
    "show-text": ("clients", "show", "--identifier", "web", "--account", "acme"),
    "users-list": ("users", "list", "--account", "acme", "--json"),
}
CHANGES: dict[str, tuple[str, ...]] = {
    "update": (
        *("clients", "update", "--account", "acme", "--identifier", "upd", "--name", "Renamed App"),
        *("--redirect-uri", "https://one.example.com/cb", "--redirect-uri", "http://127.0.0.1:9000/cb"),
        *("--grant-type", "authorization_code", "--access-token-lifetime", "600", "--company", "Acme Co", "--json"),
    ),
    "rename": ("clients", "update", "ren", "--account", "acme", "--new-identifier", "renamed", "--json"),
    "registration-open": ("accounts", "update", "acme", "--registration", "open", "--json"),
    "rotate": (
        *("clients", "rotate-secret", "--account", "acme", "--identifier", "roll"),
        *("--previous-secret-expires-in", "3600", "--json"),
    ),
    "rotate-text": ("clients", "rotate-secret", "roll0", "--account", "acme"),
    "made-confidential": ("clients", "update", "spa2", "--account", "acme", "--kind", "confidential"),
    "delete": ("clients", "delete", "--account", "acme", "--identifier", "gone", "--json"),
    "user-update": (
        *("users", "update", "--account", "acme", "--email", EVE, "--name", "Eve Q"),
        *("--role", "agent", "--json"),
    ),
    "suspend": ("users", "update", SAM, "--account", "acme", "--suspend", "--json"),
}
AFTER: dict[str, tuple[str, ...]] = {
    "show-rotated": ("clients", "show", "roll", "--account", "acme", "--json"),
    "show-deleted": ("clients", "show", "gone", "--account", "acme"),
    "show-renamed": ("clients", "show", "renamed", "--account", "acme", "--json"),
    "users-after": ("users", "list", "--account", "acme", "--json"),
    "users-after-text": ("users", "list", "--account", "acme"),
    "first-secret": ("clients", "rotate-secret", "spa2", "--account", "acme"),
    "unsuspend-twice": ("users", "update", "--account", "acme", "--email", EVE, "--unsuspend", "--json"),
}

# name: (arguments, words the one line on stderr must hold)
MISTAKES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "unknown-client": (("clients", "show", "nope", "--account", "acme"), ("'nope'",)),
    "registration-unknown-account": (
        ("accounts", "update", "nope", "--registration", "open"),
        ("no account", "'nope'"),
    ),
    "unknown-account": (("clients", "list", "--account", "nope"), ("no account", "'nope'")),
    "unknown-account-users": (("users", "list", "--account", "nope"), ("no account", "'nope'")),
    "unknown-user": (("users", "update", "ghost@acme.example", "--account", "acme", "--name", "G"), ("ghost",)),
    "bad-redirect": (
        ("clients", "update", "bad", "--account", "acme", "--redirect-uri", "http://app.example.com/cb"),
        # The reason's English exactly (a console page may translate it; the CLI never does).
        (
            "redirect_uri: line 1: 'http://app.example.com/cb' uses http; use https (http is allowed only for "
            "localhost and loopback addresses)",
        ),
    ),
    "bad-lifetime": (
        ("clients", "update", "bad", "--account", "acme", "--access-token-lifetime", "299"),
        ("300 to 172800",),
    ),
    "rename-onto-existing": (
        ("clients", "update", "bad", "--account", "acme", "--new-identifier", "web"),
        ("'web'",),
    ),
    "grace-too-long": (
        ("clients", "rotate-secret", "bad", "--account", "acme", "--previous-secret-expires-in", "604801"),
        ("604800",),
    ),
    "rotate-public": (("clients", "rotate-secret", "spa", "--account", "acme"), ("public",)),
    "nothing-to-change-client": (("clients", "update", "bad", "--account", "acme"), ("nothing to change",)),
    "nothing-to-change-user": (("users", "update", EVE, "--account", "acme"), ("nothing to change",)),
    "demote-last-admin": (
        ("users", "update", ADMIN, "--account", "acme", "--role", "agent"),
        ("is the account's last active admin: make another user an admin first",),
    ),
    "suspend-last-admin": (("users", "update", ADMIN, "--account", "acme", "--suspend"), ("admin",)),
}
# name: (arguments, what click's "Error:" line must say)
USAGE_MISTAKES: dict[str, tuple[tuple[str, ...], str]] = {
    "show-nothing": (("clients", "show", "--account", "acme"), "missing --identifier"),
    "bad-registration": (
        ("accounts", "update", "acme", "--registration", "anyone"),
        "Invalid value for '--registration'",
    ),
    "show-two": (("clients", "show", "web", "--identifier", "spa", "--account", "acme"), "differ"),
    "show-no-account": (("clients", "show", "web"), "--account SUBDOMAIN is required (or --global"),
    "show-both": (("clients", "show", "web", "--account", "acme", "--global"), "omit --account with --global"),
    "update-user-nobody": (("users", "update", "--account", "acme", "--name", "X"), "missing --email"),
    "bad-role": (("users", "update", EVE, "--account", "acme", "--role", "boss"), "Invalid value for '--role'"),
    "bad-grace": (
        ("clients", "rotate-secret", "bad", "--account", "acme", "--previous-secret-expires-in", "soon"),
        "Invalid value for '--previous-secret-expires-in'",
    ),
    "bad-kind": (("clients", "update", "bad", "--account", "acme", "--kind", "secret"), "Invalid value for '--kind'"),
    "suspend-and-flag": (("users", "update", EVE, "--account", "acme", "--suspended"), "No such option"),
}
USAGE = {name: args for name, (args, _) in USAGE_MISTAKES.items()}


def test_clients_list_json_is_the_accounts_clients(results: dict[str, Done]) -> None:
    clients = body(results, "clients-list", "clients")
    assert sorted(c["identifier"] for c in clients) == sorted(ALL_CLIENTS)
    assert [c["id"] for c in clients] == sorted(c["id"] for c in clients)  # oldest first
    for client in clients:
        assert client["global"] is False
        assert client["secret"] is None or len(client["secret"]) == 9  # never the whole secret


def test_clients_list_text_is_one_line_per_client(results: dict[str, Done]) -> None:
    lines = succeeded(results["clients-list-text"]).stdout.splitlines()
    assert len(lines) == len(ALL_CLIENTS)
    assert sorted(line.split()[1] for line in lines) == sorted(ALL_CLIENTS)


def test_show_by_option_or_argument_is_the_apis_client(results: dict[str, Done]) -> None:
    by_option = body(results, "show-option", "client")
    assert by_option == body(results, "show-argument", "client")
    assert by_option["identifier"] == "web"
    assert by_option["redirect_uri"] == ["https://x.example.com/cb"]
    assert re.fullmatch(r"tss_[A-Za-z0-9_-]{5}", by_option["secret"])
    assert by_option["url"].startswith("http://acme.localhost/api/v2/oauth/clients/")


def test_show_text_names_every_field(results: dict[str, Done]) -> None:
    out = succeeded(results["show-text"]).stdout
    assert re.search(r"^identifier:\s+web$", out, re.M)
    assert re.search(r"^redirect_uri:\s+https://x.example.com/cb$", out, re.M)


def test_update_changes_only_what_was_given(results: dict[str, Done]) -> None:
    client = body(results, "update", "client")
    assert client["name"] == "Renamed App"
    assert client["redirect_uri"] == ["https://one.example.com/cb", "http://127.0.0.1:9000/cb"]  # replaced
    assert client["grant_types"] == ["authorization_code"]
    assert client["access_token_lifetime"] == 600
    assert client["company"] == "Acme Co"
    assert client["kind"] == "confidential"  # unchanged
    assert client["refresh_token_lifetime"] == 2592000  # unchanged


def test_new_identifier_renames(results: dict[str, Done]) -> None:
    assert body(results, "rename", "client")["identifier"] == "renamed"
    assert body(results, "show-renamed", "client")["id"] == body(results, "rename", "client")["id"]


def test_rotate_secret_shows_the_new_secret_once(results: dict[str, Done], db_path: Path) -> None:
    rotated = body(results, "rotate", "client")
    secret = rotated["secret"]
    assert re.fullmatch(r"tss_[A-Za-z0-9_-]{43}", secret), secret
    assert body(results, "show-rotated", "client")["secret"] == secret[:9]
    with sqlite3.connect(db_path) as conn:
        stored, previous, expires = conn.execute(
            "SELECT secret_hash, previous_secret_hash, previous_secret_expires_at FROM clients WHERE identifier = 'roll'"
        ).fetchone()
    conn.close()
    assert bytes(stored) == hashlib.sha256(secret.encode()).digest()  # only the digest is stored
    assert previous is not None
    assert abs(float(expires) - (time.time() + 3600)) < 120  # the old secret works one more hour


def test_rotate_secret_text_prints_it_once(results: dict[str, Done]) -> None:
    out = succeeded(results["rotate-text"]).stdout
    assert len(secrets_in(out, "tss_", 43)) == 1
    assert "stopped working" in out


def test_a_client_made_confidential_is_told_how_to_get_a_secret(results: dict[str, Done]) -> None:
    """A public client has no secret (RFC 6749 section 2.1); made confidential, it cannot
    authenticate until it has one, and the command says so and how."""
    out = succeeded(results["made-confidential"]).stdout
    assert "it has no secret yet, so it cannot authenticate" in out
    assert "'tessera clients rotate-secret --account acme spa2'" in out
    first = succeeded(results["first-secret"]).stdout
    assert len(secrets_in(first, "tss_", 43)) == 1
    assert "previous secret" not in first  # there was none


def test_delete_then_the_client_is_unknown(results: dict[str, Done]) -> None:
    assert body(results, "delete", "client")["identifier"] == "gone"
    done = results["show-deleted"]
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "'gone'" in done.stderr


def test_accounts_update_sets_the_registration_policy(results: dict[str, Done], db_path: Path) -> None:
    """INTERFACE.md section 8: `tessera accounts update SUB --registration off|token|open`."""
    account = body(results, "registration-open", "account")
    assert account["subdomain"] == "acme"
    assert account["registration_policy"] == "open"
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT registration_policy FROM accounts WHERE subdomain = 'acme'").fetchone() == ("open",)


def test_users_list_json(results: dict[str, Done]) -> None:
    users = body(results, "users-list", "users")
    assert users[0]["email"] == ADMIN  # oldest first; eve and sam were made side by side
    assert sorted(u["email"] for u in users[1:]) == sorted([EVE, SAM])
    assert all(u["active"] is True for u in users)
    assert "password" not in str(users)


def test_users_update_and_suspend(results: dict[str, Done]) -> None:
    eve = body(results, "user-update", "user")
    assert (eve["name"], eve["role"], eve["email"]) == ("Eve Q", "agent", EVE)
    sam = body(results, "suspend", "user")
    assert sam["suspended"] is True
    assert sam["active"] is False
    after = {u["email"]: u for u in body(results, "users-after", "users")}
    assert after[SAM]["suspended"] is True
    assert after[EVE]["suspended"] is False
    assert body(results, "unsuspend-twice", "user")["suspended"] is False  # already active: still fine
    assert "(suspended)" in next(line for line in results["users-after-text"].stdout.splitlines() if SAM in line)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_domain_mistake_is_one_line_and_exit_2(results: dict[str, Done], name: str) -> None:
    done = results[name]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tessera: ")
    for words in MISTAKES[name][1]:
        assert words in lines[0]


@pytest.mark.parametrize("name", list(USAGE_MISTAKES))
def test_usage_mistake_prints_usage_and_exit_2(results: dict[str, Done], name: str) -> None:
    done = results[name]
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Usage: tessera ")
    assert USAGE_MISTAKES[name][1] in done.stderr.splitlines()[-1]


def test_refused_changes_changed_nothing(results: dict[str, Done], db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        bad = conn.execute(
            "SELECT redirect_uris, access_token_lifetime FROM clients WHERE identifier = 'bad'"
        ).fetchone()
        roles = dict(conn.execute("SELECT email, role FROM users WHERE suspended_at IS NULL").fetchall())
    conn.close()
    assert "https://x.example.com/cb" in bad[0]
    assert bad[1] == 1800
    assert roles[ADMIN] == "admin"


@pytest.mark.postgres
def test_list_update_rotate_on_postgresql(tmp_path: Path) -> None:
    with harness.fresh_database("postgresql", tmp_path) as url:
        setup_account(url)
        done = run_all(
            url,
            {
                "list": ("clients", "list", "--account", "acme", "--json"),
                "update": ("clients", "update", "upd", "--account", "acme", "--name", "PG", "--json"),
                "rotate": ("clients", "rotate-secret", "roll", "--account", "acme", "--json"),
                "users": ("users", "update", EVE, "--account", "acme", "--suspend", "--json"),
            },
        )
        assert len(only_json(done["list"])["clients"]) == len(ALL_CLIENTS)
        assert only_json(done["update"])["client"]["name"] == "PG"
        assert len(only_json(done["rotate"])["client"]["secret"]) == 47
        assert only_json(done["users"])["user"]["suspended"] is True
        assert run(url, "clients", "delete", "nope", "--account", "acme").returncode == 2
