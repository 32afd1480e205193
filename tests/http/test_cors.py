"""CORS (Fetch Standard, CORS protocol) on an account host, INTERFACE.md section 5: "No
CORS headers on the authorization endpoint or the HTML pages (the token, discovery, JWKS
and userinfo endpoints may allow CORS for browser apps)".

Browser apps (public clients, RFC 8252 / OAuth 2.0 for Browser-Based Apps) call the JSON
endpoints from their own origin; the pages a user acts on must never be readable
cross-origin, or another site could read a CSRF token or a consent page.
"""

from __future__ import annotations

import httpx
import pytest

from tests.http.test_signing_keys import code_flow_tokens
from tests.support import World, authorize_url, forms, sign_in

pytestmark = pytest.mark.anyio

ORIGIN = {"Origin": "https://spa.example.org"}
ACAO = "access-control-allow-origin"


def _allows(response: httpx.Response) -> None:
    assert response.headers.get(ACAO) in ("*", ORIGIN["Origin"]), dict(response.headers)
    # Credentials (cookies) are never part of these calls; "*" with credentials is invalid anyway.
    assert response.headers.get("access-control-allow-credentials") is None


def _no_cors(response: httpx.Response) -> None:
    for name in response.headers:
        assert not name.lower().startswith("access-control-"), (name, response.status_code)


# --- the JSON endpoints allow it -------------------------------------------------------


async def test_token_endpoint_success_and_error(http: httpx.AsyncClient, world: World) -> None:
    ok = await http.post(
        "/oauth/tokens",
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers=ORIGIN,
    )
    assert ok.status_code == 200
    _allows(ok)
    # The browser app must be able to read the error too (RFC 6749 section 5.2).
    refused = await http.post("/oauth/tokens", data={"grant_type": "authorization_code"}, headers=ORIGIN)
    assert refused.status_code in (400, 401)
    _allows(refused)


async def test_token_endpoint_exposes_www_authenticate(http: httpx.AsyncClient, world: World) -> None:
    """A 401 invalid_client for a Basic caller carries WWW-Authenticate; a browser script
    can read it only when it is exposed."""
    response = await http.post(
        "/oauth/tokens",
        auth=(world.web.client_id, "wrong-secret"),
        data={"grant_type": "client_credentials"},
        headers=ORIGIN,
    )
    assert response.status_code == 401
    _allows(response)
    exposed = response.headers.get("access-control-expose-headers", "").lower()
    assert "www-authenticate" in exposed


async def test_public_client_code_exchange_from_a_browser(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.spa, world.user.email, scope="openid")
    assert tokens["access_token"]
    # And the follow-up calls a SPA makes.
    info = await http.get("/oauth/userinfo", headers={**ORIGIN, "Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200
    _allows(info)
    revoked = await http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": world.spa.client_id}, headers=ORIGIN
    )
    assert revoked.status_code == 200
    _allows(revoked)


async def test_revoke_and_introspect(http: httpx.AsyncClient, world: World) -> None:
    for path in ("/oauth/revoke", "/oauth/introspect"):
        response = await http.post(path, auth=world.web.basic(), data={"token": "tsa_unknown"}, headers=ORIGIN)
        assert response.status_code == 200, (path, response.text)
        _allows(response)


async def test_userinfo_errors(http: httpx.AsyncClient) -> None:
    response = await http.get("/oauth/userinfo", headers=ORIGIN)
    assert response.status_code == 401
    _allows(response)
    assert "www-authenticate" in response.headers.get("access-control-expose-headers", "").lower()


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth/jwks"]
)
async def test_discovery_and_jwks(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, headers=ORIGIN)
    assert response.status_code == 200
    _allows(response)


async def test_token_preflight(http: httpx.AsyncClient) -> None:
    """A cross-origin POST with Authorization is preflighted; the answer allows it."""
    response = await http.options(
        "/oauth/tokens",
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    _allows(response)
    methods = {m.strip().upper() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"POST"}  # the methods the path takes, no other
    headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= headers


@pytest.mark.parametrize(
    ("path", "takes"),
    [
        ("/oauth/tokens", {"POST"}),
        ("/oauth/revoke", {"POST"}),
        ("/oauth/introspect", {"POST"}),
        ("/oauth/device/code", {"POST"}),
        ("/oauth/userinfo", {"GET", "POST"}),
    ],
)
async def test_a_preflight_names_the_methods_its_path_takes(
    http: httpx.AsyncClient, path: str, takes: set[str]
) -> None:
    response = await http.options(path, headers={**ORIGIN, "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert {m.strip().upper() for m in response.headers["access-control-allow-methods"].split(",")} == takes


@pytest.mark.parametrize("path", ["/oauth/tokens", "/oauth/userinfo", "/oauth/par", "/api/v2/users/me"])
async def test_a_browser_app_may_send_a_dpop_proof_and_read_the_nonce(http: httpx.AsyncClient, path: str) -> None:
    """RFC 9449 from a single-page app: its proof goes in the DPoP header, which the
    preflight must allow, and a server nonce comes back in DPoP-Nonce, which the answer
    must expose for the app's script to read it (sections 8 and 9)."""
    method = "GET" if path == "/api/v2/users/me" else "POST"
    response = await http.options(
        path,
        headers={**ORIGIN, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "dpop"},
    )
    assert response.status_code == 204
    assert "dpop" in {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert "dpop-nonce" in exposed


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/userinfo"])
async def test_other_preflights(http: httpx.AsyncClient, path: str) -> None:
    response = await http.options(
        path,
        headers={**ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )
    assert response.status_code == 204
    _allows(response)
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/api/v2",
        "/oauth/jwks",
    ],
)
async def test_public_documents_preflight_for_any_header(http: httpx.AsyncClient, path: str) -> None:
    """A browser MCP client reads discovery and resource metadata with a header of its own
    (MCP-Protocol-Version), which makes its GET preflighted: the preflight allows it. The
    documents take no credentials, so `*` is honoured (Fetch standard, CORS protocol)."""
    response = await http.options(
        path,
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "mcp-protocol-version",
        },
    )
    assert response.status_code == 204, response.text
    _allows(response)
    assert response.headers["access-control-allow-methods"] == "GET"
    assert response.headers["access-control-allow-headers"] == "*"
    assert "access-control-allow-credentials" not in response.headers


# --- the pages do not ------------------------------------------------------------------


async def test_authorization_endpoint_has_no_cors(http: httpx.AsyncClient, world: World) -> None:
    # Redirect to login, the client error page, and (signed in) the consent page.
    _no_cors(await http.get(authorize_url(world.web), headers=ORIGIN))
    _no_cors(await http.get(authorize_url(world.web, client_id="no-such-client"), headers=ORIGIN))
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web, scope="read write"), headers=ORIGIN)
    assert page.status_code == 200
    _no_cors(page)
    # The consent POST and its redirect back to the client.
    form = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
    decided = await http.post(form.action, data=dict(form.fields, decision="allow"), headers=ORIGIN)
    assert decided.status_code in (302, 303)
    _no_cors(decided)


async def test_authorization_endpoint_preflight_is_not_answered(http: httpx.AsyncClient) -> None:
    response = await http.options(
        "/oauth/authorizations/new", headers={**ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code != 204
    _no_cors(response)


async def test_login_page_and_form_have_no_cors(http: httpx.AsyncClient, world: World) -> None:
    page = await http.get("/access/login", headers=ORIGIN)
    assert page.status_code == 200
    _no_cors(page)
    form = forms(page.text)[-1]
    bad = await http.post(
        "/access/login", data=dict(form.fields, email=world.user.email, password="wrong"), headers=ORIGIN
    )
    _no_cors(bad)
    good = await http.post(
        "/access/login",
        data=dict(form.fields, email=world.user.email, password="correct horse battery"),
        headers=ORIGIN,
    )
    assert good.status_code in (302, 303)
    _no_cors(good)


async def test_logout_has_no_cors(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    _no_cors(await http.get("/access/logout", headers=ORIGIN))
    _no_cors(await http.post("/access/logout", headers=ORIGIN))


async def test_api_with_a_session_cookie_has_no_cors(http: httpx.AsyncClient, world: World) -> None:
    """users/me with a session cookie returns the authenticity_token; another origin must
    never read it."""
    await sign_in(http, world.user.email)
    me = await http.get("/api/v2/users/me", headers=ORIGIN)
    assert me.status_code == 200
    assert "authenticity_token" in me.json()["user"]
    assert me.headers.get(ACAO) is None


async def test_api_with_a_bearer_token_allows_any_origin(http: httpx.AsyncClient, world: World) -> None:
    """A single-page app calls users/me with its token (the sample SPA does): the answer and
    a refusal (with its exposed WWW-Authenticate) are readable from its origin."""
    tokens = await code_flow_tokens(http, world.spa, world.user.email, scope="read")
    http.cookies.clear()  # the SPA's origin has no session cookie of the account
    bearer = {**ORIGIN, "Authorization": f"Bearer {tokens['access_token']}"}
    me = await http.get("/api/v2/users/me", headers=bearer)
    assert me.status_code == 200, me.text
    assert "authenticity_token" not in me.json()["user"]
    _allows(me)
    assert "Authorization" in me.headers["vary"]
    refused = await http.get("/api/v2/users/me", headers={**ORIGIN, "Authorization": "Bearer tsa_not_a_token"})
    assert refused.status_code == 401
    _allows(refused)
    assert "www-authenticate" in refused.headers["access-control-expose-headers"].lower()


async def test_api_preflight_for_a_bearer_token(http: httpx.AsyncClient) -> None:
    response = await http.options(
        "/api/v2/users/me",
        headers={**ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert response.status_code == 204
    _allows(response)
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "GET" in response.headers["access-control-allow-methods"]
