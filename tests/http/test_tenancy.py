"""Accounts and hosts: INTERFACE.md section 2 (Host selects the account; an unknown
subdomain is 404; each account is its own issuer; sessions are per account host) and
section 4 (tokens and clients belong to an account); RFC 9207 (iss names the account).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, World, add_client, authorize_url, make_world, obtain_code, query_of, sign_in

pytestmark = pytest.mark.anyio

ME = "/api/v2/users/me"


@pytest.fixture
async def other(stores: Stores, clock: Clock) -> World:
    return await make_world(stores, clock)


@pytest.fixture
async def other_http(app: object, other: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=other.origin) as client:
        yield client


def browser(app: object, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "path", ["/", "/access/login", "/oauth/authorizations/new?client_id=x", "/.well-known/openid-configuration", ME]
)
async def test_unknown_subdomain_is_404(app: object, path: str) -> None:
    async with browser(app, "http://no-such-account-zz.localhost") as nowhere:
        response = await nowhere.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "no-such-account-zz.localhost" in response.json()["description"]


async def test_unknown_subdomain_is_a_404_page_for_browsers(app: object) -> None:
    async with browser(app, "http://no-such-account-zz.localhost") as nowhere:
        response = await nowhere.get("/access/login", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "There is no account at no-such-account-zz.localhost" in response.text


@pytest.mark.parametrize("host", ["evil.example.com", "a.b.localhost", "localhost.evil.com", "[::1]"])
async def test_hosts_that_are_not_ours_are_404(app: object, world: World, host: str) -> None:
    async with browser(app, "http://placeholder") as client:
        response = await client.get("/access/login", headers={"Host": host})
    assert response.status_code == 404


async def test_subdomain_selects_the_account_case_insensitively(app: object, world: World) -> None:
    async with browser(app, f"http://{world.subdomain.upper()}.LOCALHOST") as client:
        page = await client.get("/access/login")
    assert page.status_code == 200
    assert f"<title>Sign in · Account {world.subdomain}</title>" in page.text


async def test_each_account_is_its_own_issuer_with_the_port_rfc9207(app: object, world: World) -> None:
    async with browser(app, f"http://{world.subdomain}.localhost:8000") as client:
        response = await obtain_code(client, world.web, world.user.email, state="p")
    assert response["iss"] == f"http://{world.subdomain}.localhost:8000"


async def test_iss_differs_per_account(
    http: httpx.AsyncClient, world: World, other: World, other_http: httpx.AsyncClient
) -> None:
    mine = await obtain_code(http, world.web, world.user.email)
    theirs = await obtain_code(other_http, other.web, other.user.email)
    assert mine["iss"] == f"http://{world.subdomain}.localhost"
    assert theirs["iss"] == f"http://{other.subdomain}.localhost"


async def test_a_session_on_one_account_does_not_sign_you_in_on_another(
    http: httpx.AsyncClient, world: World, other: World, app: object
) -> None:
    """INTERFACE.md section 2. The cookie is host-only, and even when a browser (or an
    attacker) presents it to another account's host, the server refuses it there."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    cookie = http.cookies["tessera_session"]
    stolen = {"Cookie": f"tessera_session={cookie}"}
    async with browser(app, other.origin) as there:
        assert (await there.get(ME, headers=stolen)).status_code == 401
        to_login = await there.get(authorize_url(other.web), headers=stolen)
        assert to_login.status_code == 302
        assert to_login.headers["location"].startswith("/access/login?")
        silent = await there.get(authorize_url(other.web, prompt="none"), headers=stolen)
        assert query_of(silent.headers["location"])["error"] == "login_required"
        home = await there.get("/", headers=stolen)
        assert "You are not signed in." in home.text
    # The same cookie still works where it was issued.
    assert (await http.get(ME)).status_code == 200


async def test_the_browser_does_not_send_one_accounts_cookie_to_another(
    http: httpx.AsyncClient, world: World, other: World
) -> None:
    """Host-only cookie (RFC 6265 section 5.3 step 6): one browser, two account hosts."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    elsewhere = await http.get(f"{other.origin}{ME}")
    assert elsewhere.status_code == 401
    assert "tessera_session" not in elsewhere.request.headers.get("cookie", "")
    assert (await http.get(ME)).status_code == 200


async def test_a_token_from_one_account_is_refused_on_another(
    http: httpx.AsyncClient, world: World, other: World, other_http: httpx.AsyncClient
) -> None:
    issued = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert (await http.get(ME, headers=bearer)).status_code == 200
    refused = await other_http.get(ME, headers=bearer)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_a_client_of_one_account_is_unknown_on_another(
    other_http: httpx.AsyncClient, world: World, other: World
) -> None:
    response = await other_http.get(authorize_url(world.web))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Unknown client" in response.text
    assert world.web.client_id in response.text


async def test_numeric_id_of_another_accounts_client_gets_no_hint(
    http: httpx.AsyncClient, world: World, other: World
) -> None:
    """The numeric-id hint names only clients usable on this account: it must not reveal
    another account's client."""
    response = await http.get(authorize_url(world.web, client_id=str(other.web.client.id)))
    assert response.status_code == 400
    assert f"No OAuth client with the identifier &#39;{other.web.client.id}&#39;" in response.text
    assert other.web.client_id not in response.text


async def test_a_global_clients_code_from_one_account_is_refused_on_another(
    http: httpx.AsyncClient,
    world: World,
    other: World,
    other_http: httpx.AsyncClient,
    stores: Stores,
    clock: Clock,
) -> None:
    """A global client is known on both accounts; its code still belongs to the one that issued it."""
    glob = await add_client(stores, None, clock(), name="Global", redirect_uris=("https://global.example.org/cb",))
    code = (await obtain_code(http, glob, world.user.email))["code"]
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": glob.redirect_uri}
    refused = await other_http.post("/oauth/tokens", auth=glob.basic(), data=redeem)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    # Refused elsewhere, it is still good where it was issued.
    accepted = await http.post("/oauth/tokens", auth=glob.basic(), data=redeem)
    assert accepted.status_code == 200, accepted.text


async def test_a_host_header_with_a_malformed_port_never_becomes_the_issuer(app: object, world: World) -> None:
    """RFC 9110 section 7.2: Host = uri-host [ ":" port ], port = *DIGIT. A Host header whose
    "port" carries userinfo syntax would make the issuer (and so RFC 9207's iss, and every
    URL built from it) point at another host."""
    async with browser(app, "http://placeholder") as client:
        response = await client.get(
            authorize_url(world.web, response_type="bogus"), headers={"Host": f"{world.subdomain}.localhost:1@evil.com"}
        )
    assert response.status_code in (400, 404)
    assert "evil.com" not in response.headers.get("location", "")


async def test_the_chooser_never_redirects_off_the_base_domain_through_the_host_header(
    app: object, world: World, stores: Stores, clock: Clock
) -> None:
    glob = await add_client(stores, None, clock(), redirect_uris=("https://global.example.org/cb",))
    async with browser(app, "http://placeholder") as client:
        response = await client.get(
            "/oauth/authorizations/new",
            params={"client_id": glob.client_id, "response_type": "code", "subdomain": world.subdomain},
            headers={"Host": "localhost:8000@evil.com"},
        )
    assert response.status_code in (400, 404)
    assert "evil.com" not in response.headers.get("location", "")


async def test_a_token_shown_to_another_account_logs_whose_it_is(
    http: httpx.AsyncClient, world: World, other: World, other_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 6750 section 3.1 invalid_token for the caller; the account the token belongs to
    (OAuthError.debug) only in the server log, and never the token."""
    issued = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    token = issued.json()["access_token"]
    with caplog.at_level(logging.INFO, logger="tessera.oauth"):
        refused = await other_http.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert "another account" in refused.json()["description"]
    logged = [r.getMessage() for r in caplog.records if r.name == "tessera.oauth"]
    detail = f"belongs to account id {world.account.id}, presented to account id {other.account.id}"
    assert any(detail in line for line in logged), logged
    assert "account id" not in refused.text and "account id" not in refused.headers["www-authenticate"]
    assert not any(token in line for line in logged)
