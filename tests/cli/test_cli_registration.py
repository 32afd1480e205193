"""INTERFACE.md section 8, CLI: `tessera registration-tokens create --account SUB
[--expires-in SECONDS] [--json]` prints an initial access token (RFC 7591 section 3) once,
stores only its digest, and the token then registers one client; `list` and `revoke`
manage them; section 1's rules for mistakes (one line on stderr, exit 2).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tessera.app import create_app
from tessera.settings import Settings
from tests.cli.test_cli import Done, only_json, run, succeeded

SUB = "acme"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli-registration") / "tessera.db"
    url = f"sqlite:///{path}"
    succeeded(run(url, "accounts", "create", SUB))
    succeeded(run(url, "accounts", "update", SUB, "--registration", "token"))
    return url


@pytest.fixture(scope="module")
def created(url: str) -> dict[str, object]:
    token: dict[str, object] = only_json(run(url, "registration-tokens", "create", "--account", SUB, "--json"))[
        "registration_token"
    ]
    return token


def test_create_json_shows_the_whole_token_once(created: dict[str, object]) -> None:
    full = str(created["full_token"])
    assert re.fullmatch(r"tsi_[A-Za-z0-9_-]{43}", full)
    assert created["token"] == full[:10]
    assert created["registration_endpoint"] == "http://acme.localhost/oauth/register"
    assert created["used_at"] is None and created["client_id"] is None


def test_only_the_digest_is_stored(created: dict[str, object], url: str) -> None:
    data = Path(url.removeprefix("sqlite:///")).read_bytes()
    full = str(created["full_token"])
    assert full.encode() not in data
    assert full[10:].encode() not in data


def test_create_text_prints_the_token_and_where_to_use_it(url: str) -> None:
    done = succeeded(run(url, "registration-tokens", "create", "--account", SUB, "--expires-in", "60"))
    assert re.search(r"^initial access token \(shown only now\): tsi_\S{43}$", done.stdout, re.M)
    assert "http://acme.localhost/oauth/register" in done.stdout


@pytest.fixture
async def app_http(url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=url, base_domain="localhost", scheme="http", secret_key="k" * 40, access_log=False)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://acme.localhost") as http:
        yield http


@pytest.mark.anyio
async def test_the_token_registers_one_client_then_list_shows_it_used(
    created: dict[str, object], url: str, app_http: httpx.AsyncClient
) -> None:
    body = {"client_name": "CLI Agent", "redirect_uris": ["https://agent.example/cb"]}
    headers = {"Authorization": f"Bearer {created['full_token']}"}
    first = await app_http.post("/oauth/register", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert (await app_http.post("/oauth/register", json=body, headers=headers)).status_code == 401
    listed = only_json(run(url, "registration-tokens", "list", "--account", SUB, "--json"))["registration_tokens"]
    used = next(t for t in listed if t["id"] == created["id"])
    assert used["used_at"] is not None and used["client_id"] is not None
    assert all("full_token" not in t for t in listed)


def test_revoke_deletes_the_token(url: str) -> None:
    token = only_json(run(url, "registration-tokens", "create", "--account", SUB, "--json"))["registration_token"]
    done = succeeded(run(url, "registration-tokens", "revoke", str(token["id"]), "--account", SUB))
    assert f"revoked initial access token {token['id']}" in done.stdout
    listed = only_json(run(url, "registration-tokens", "list", "--account", SUB, "--json"))["registration_tokens"]
    assert token["id"] not in [t["id"] for t in listed]
    digest = hashlib.sha256(str(token["full_token"]).encode()).digest()
    assert digest not in Path(url.removeprefix("sqlite:///")).read_bytes()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("create", "--account", "nope"), ("no account", "'nope'")),
        (("create", "--account", SUB, "--expires-in", "59"), ("expires_in", "60 to 7776000")),
        (("create", "--account", SUB, "--expires-in", "7776001"), ("expires_in",)),
        (("revoke", "999999", "--account", SUB), ("no initial access token", "999999")),
    ],
)
def test_a_domain_mistake_is_one_line_and_exit_2(url: str, args: tuple[str, ...], words: tuple[str, ...]) -> None:
    done: Done = run(url, "registration-tokens", *args)
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_a_usage_mistake_is_clicks_usage_and_exit_2(url: str) -> None:
    done = run(url, "registration-tokens", "create", "--account", SUB, "--expires-in", "soon")
    assert done.returncode == 2 and "Usage:" in done.stderr


def test_the_policy_change_and_token_creation_are_audited(url: str, created: dict[str, object]) -> None:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        rows = conn.execute("SELECT action, source_type, change_description FROM audit_logs ORDER BY id").fetchall()
    assert ("update", "account") in [(a, s) for a, s, _ in rows]
    assert ("create", "registration_token") in [(a, s) for a, s, _ in rows]
    assert all("tsi_" not in change for _, _, change in rows)
