"""Issue "Secrets", INTERFACE.md section 5: "No issued code, token or secret appears in full
in any log output". A whole flow runs with every logger at DEBUG, the access log on; every
record captured (its message formatted with its arguments, and any traceback) is searched
for every code, token, refresh token, ID token, client secret, password and session cookie
the flow handled. Only the documented prefixes may appear: a token's first 10 characters
(section 4, Tokens API), a client secret's first 9 (section 6).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from tessera.app import create_app
from tessera.settings import Settings
from tessera.storage.database import Database
from tessera.web.sessions import COOKIE
from tests.support import PASSWORD, World, authorize_url, consent, forms, pkce_pair, query_of, sign_in

pytestmark = pytest.mark.anyio

TOKEN_SHOWN = 10  # INTERFACE.md section 4: `token` shows the first 10 characters
SECRET_SHOWN = 9  # INTERFACE.md section 6: `secret` shows its first 9 characters
# Secrets with no documented prefix (codes, passwords, cookies): this many characters is
# already a leak, whatever the fixed type prefix (`tsc_`) they start with.
UNDOCUMENTED_SHOWN = 7
WRONG_PASSWORD = "wrong horse battery staple"


@dataclass
class Secrets:
    """Everything secret the flow handled, with how many leading characters may be shown."""

    shown: dict[str, int] = field(default_factory=dict)

    def add(self, value: str | None, shown: int = UNDOCUMENTED_SHOWN) -> None:
        assert value, "the flow should have produced this secret"
        self.shown[value] = shown

    def leaks(self, text: str) -> list[str]:
        """The secrets `text` holds whole, or beyond their shown prefix."""
        return [value for value, shown in self.shown.items() if value[: shown + 1] in text]


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


@pytest.fixture
async def logged_http(settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process app with its access log on (the `http` fixture's app has it off)."""
    app = create_app(settings.with_overrides(access_log=True), db=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as client:
        yield client


async def _code_flow(http: httpx.AsyncClient, world: World, found: Secrets) -> dict[str, str]:
    failed = await http.post(
        "/access/login",
        data={
            **forms((await http.get("/access/login")).text)[-1].fields,
            "email": world.user.email,
            "password": WRONG_PASSWORD,
        },
    )
    assert failed.status_code in (401, 422, 200), failed.status_code
    assert (await sign_in(http, world.user.email)).status_code == 303
    found.add(http.cookies.get(COOKIE))
    verifier, challenge = pkce_pair()
    found.add(verifier)
    page = await http.get(
        authorize_url(world.web, scope="openid read write", code_challenge=challenge, code_challenge_method="S256")
    )
    if page.status_code == 200:
        page = await consent(http, page)
    code = query_of(page.headers["location"])["code"]
    found.add(code)
    assert world.web.secret is not None
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": world.web.redirect_uri}
    tokens = (
        await http.post("/oauth/tokens", auth=world.web.basic(), data={**exchange, "code_verifier": verifier})
    ).json()
    found.add(tokens["access_token"], TOKEN_SHOWN)
    found.add(tokens["refresh_token"], TOKEN_SHOWN)
    found.add(tokens["id_token"].rsplit(".", 1)[1])  # its signature: the header is the same for every token
    found.add(tokens["id_token"].split(".", 1)[1])
    refreshed = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    found.add(fresh["access_token"], TOKEN_SHOWN)
    found.add(fresh["refresh_token"], TOKEN_SHOWN)
    return {
        **tokens,
        "code": code,
        "verifier": verifier,
        "fresh_access": fresh["access_token"],
        "fresh_refresh": fresh["refresh_token"],
    }


async def _client_calls(http: httpx.AsyncClient, world: World, tokens: dict[str, str]) -> None:
    for token in (tokens["fresh_access"], tokens["access_token"], tokens["refresh_token"]):
        introspected = await http.post("/oauth/introspect", auth=world.web.basic(), data={"token": token})
        assert introspected.status_code == 200
    bearer = {"Authorization": f"Bearer {tokens['fresh_access']}"}
    assert (await http.get("/api/v2/users/me", headers=bearer)).status_code == 200
    assert (await http.get("/oauth/userinfo", headers=bearer)).status_code == 200
    assert (await http.get("/api/v2/oauth/tokens", headers=bearer)).status_code == 200
    # A token in the query string of an API call: refused (section 4), and never logged whole.
    refused = await http.get("/api/v2/users/me", params={"access_token": tokens["fresh_access"]})
    assert refused.status_code == 400
    # A revoked token presented again, and a wrong client secret.
    assert (
        await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": tokens["fresh_refresh"]})
    ).status_code == 200
    assert (await http.get("/api/v2/users/me", headers=bearer)).status_code == 401
    wrong = httpx.BasicAuth(world.web.client_id, world.web.secret[:-2] + "xx")  # type: ignore[index]
    assert (await http.post("/oauth/introspect", auth=wrong, data={"token": tokens["fresh_access"]})).status_code == 401


def _secret_on(page: httpx.Response) -> str:
    found = re.search(r'id="client-secret"[^>]*value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _console(http: httpx.AsyncClient, world: World, found: Secrets) -> None:
    """An admin creates a client in the console and regenerates its secret."""
    assert (await sign_in(http, world.admin.email, return_to="/admin")).status_code == 303
    found.add(http.cookies.get(COOKIE))
    form = next(f for f in forms((await http.get("/admin/clients/new")).text) if "authenticity_token" in f.fields)
    created = await http.post(
        "/admin/clients",
        data={
            "authenticity_token": form.fields["authenticity_token"],
            "name": "Reporting",
            "identifier": "reporting",
            "kind": "confidential",
            "redirect_uri": "https://reports.example.com/cb",
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "access_token_format": "opaque",
        },
        follow_redirects=True,
    )
    found.add(_secret_on(created), SECRET_SHOWN)
    edit = re.search(r"/admin/clients/(\d+)/secret", created.text)
    assert edit, created.text
    token = next(f.fields["authenticity_token"] for f in forms(created.text) if "authenticity_token" in f.fields)
    regenerated = await http.post(
        edit.group(0), data={"authenticity_token": token, "previous_secret_expires_in": "0"}, follow_redirects=True
    )
    found.add(_secret_on(regenerated), SECRET_SHOWN)


async def test_no_secret_of_a_whole_flow_is_logged_at_debug(
    logged_http: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger, Tessera's and the libraries'
    found = Secrets()
    found.add(PASSWORD)
    found.add(WRONG_PASSWORD)
    found.add(world.web.secret, SECRET_SHOWN)
    http = logged_http
    tokens = await _code_flow(http, world, found)
    await _client_calls(http, world, tokens)
    logout = await http.get(
        "/access/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": world.web.redirect_uri},
    )
    assert logout.status_code in (302, 303), logout.text
    http.cookies.clear()
    await _console(http, world, found)
    # A code presented again: refused, its tokens revoked, and neither quoted in any log.
    replay = {"grant_type": "authorization_code", "code": tokens["code"], "code_verifier": tokens["verifier"]}
    replayed = await http.post(
        "/oauth/tokens", auth=world.web.basic(), data={**replay, "redirect_uri": world.web.redirect_uri}
    )
    assert replayed.status_code == 400

    # The test's own HTTP client (httpx, httpcore) logs the URLs it requests, secrets and all:
    # that is the caller's log, not the server's.
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    texts = [(record.name, _record_text(record)) for record in server]
    # The run was logged: the access log wrote a line per request, at DEBUG with query strings.
    access = [text for name, text in texts if name == "tessera.access"]
    assert any("/oauth/tokens" in text for text in access), texts
    assert any("id_token_hint=" in text for text in access), access
    leaked = {name: found.leaks(text) for name, text in texts if found.leaks(text)}
    assert leaked == {}, leaked


def test_the_check_sees_a_leak_past_the_shown_prefix() -> None:
    """The grep itself: a token's 10 characters pass, 11 are a leak; a secret's 9 pass."""
    found = Secrets()
    token, secret = "tsa_ABCDEFGHIJKLMNOP", "tss_abcdefghijklmnop"
    found.add(token, TOKEN_SHOWN)
    found.add(secret, SECRET_SHOWN)
    assert found.leaks(f"token {token[:10]} secret {secret[:9]}") == []
    assert found.leaks(f"token {token[:11]}") == [token]
    assert found.leaks(f"secret {secret[:10]}") == [secret]
