"""GET|POST /access/logout: INTERFACE.md sections 4 (return_to, the OIDC end_session_endpoint)
and 5 (logout ends the session on the server); OpenID Connect RP-Initiated Logout 1.0
sections 2 and 3 (post_logout_redirect_uri, state); CWE-601 (no open redirect).
"""

from __future__ import annotations

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, World, add_client, make_world, obtain_code, query_of, sign_in

pytestmark = pytest.mark.anyio

LOGOUT = "/access/logout"
ME = "/api/v2/users/me"


async def signed_in(http: httpx.AsyncClient, world: World) -> str:
    response = await sign_in(http, world.user.email)
    assert response.status_code == 303
    assert (await http.get(ME)).status_code == 200
    return http.cookies["tessera_session"]


def assert_signed_out_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert "location" not in response.headers
    assert "You are signed out" in response.text


async def me_with_cookie(app: object, origin: str, cookie: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=origin) as browser:
        return await browser.get(ME, headers={"Cookie": f"tessera_session={cookie}"})


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_logout_ends_the_session_on_the_server(
    http: httpx.AsyncClient, world: World, app: object, method: str
) -> None:
    """INTERFACE.md section 5: a copy of the old cookie no longer works."""
    cookie = await signed_in(http, world)
    response = await http.request(method, LOGOUT)
    assert_signed_out_page(response)
    assert (await me_with_cookie(app, world.origin, cookie)).status_code == 401
    assert (await http.get(ME)).status_code == 401


async def test_logout_clears_the_cookie_in_the_browser(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    response = await http.get(LOGOUT)
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith("tessera_session=")]
    assert 'tessera_session="";' in header or "tessera_session=;" in header
    assert "max-age=0" in header.lower()


async def test_return_to_a_registered_redirect_uri_is_followed(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    response = await http.get(LOGOUT, params={"return_to": "https://app.example.com/callback"})
    assert response.status_code == 302
    assert response.headers["location"] == "https://app.example.com/callback"
    assert (await http.get(ME)).status_code == 401


async def test_post_logout_with_return_to_answers_303(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    response = await http.post(LOGOUT, data={"return_to": "https://legacy.example.com/cb"})
    assert response.status_code == 303
    assert response.headers["location"] == "https://legacy.example.com/cb"


async def test_return_to_a_global_clients_redirect_uri_is_followed(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    glob = await add_client(stores, None, clock(), name="Global App", redirect_uris=("https://global.example.net/cb",))
    await signed_in(http, world)
    response = await http.get(LOGOUT, params={"return_to": glob.redirect_uri})
    assert response.status_code == 302
    assert response.headers["location"] == "https://global.example.net/cb"


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example.com/",
        "https://app.example.com/callback/../../evil",
        "https://app.example.com/call",  # a prefix of a registered URI
        "https://app.example.com/callback?next=https://evil.example.com",
        "//evil.example.com",
        "/",
    ],
)
async def test_any_other_return_to_is_ignored(http: httpx.AsyncClient, world: World, return_to: str) -> None:
    await signed_in(http, world)
    response = await http.get(LOGOUT, params={"return_to": return_to})
    assert_signed_out_page(response)
    assert (await http.get(ME)).status_code == 401


async def test_return_to_registered_only_on_another_account_is_ignored(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    theirs = await add_client(stores, other.account, clock(), redirect_uris=("https://theirs.example.org/cb",))
    await signed_in(http, world)
    assert_signed_out_page(await http.get(LOGOUT, params={"return_to": theirs.redirect_uri}))


async def test_post_logout_redirect_uri_of_the_client_is_followed_with_state(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    response = await http.get(
        LOGOUT,
        params={
            "client_id": world.web.client_id,
            "post_logout_redirect_uri": "https://app.example.com/callback",
            "state": "bye 1",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://app.example.com/callback?state=bye+1"
    assert (await http.get(ME)).status_code == 401


async def test_post_logout_redirect_uri_without_state_has_none_appended(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    response = await http.get(
        LOGOUT,
        params={"client_id": world.web.client_id, "post_logout_redirect_uri": "https://app.example.com/callback"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://app.example.com/callback"


async def test_state_is_appended_to_a_redirect_uri_that_has_a_query(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    client = await add_client(stores, world.account, clock(), redirect_uris=("https://q.example.com/out?tenant=7",))
    await signed_in(http, world)
    response = await http.get(
        LOGOUT,
        params={"client_id": client.client_id, "post_logout_redirect_uri": client.redirect_uri, "state": "s&t"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://q.example.com/out?tenant=7&state=s%26t"


async def openid_id_token(http: httpx.AsyncClient, world: World) -> str:
    code = (await obtain_code(http, world.web, world.user.email, scope="openid", nonce="n-1"))["code"]
    tokens = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": world.web.redirect_uri},
    )
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["id_token"])


async def test_id_token_hint_names_the_client_rp_initiated_logout_2(http: httpx.AsyncClient, world: World) -> None:
    hint = await openid_id_token(http, world)
    response = await http.get(
        LOGOUT,
        params={"id_token_hint": hint, "post_logout_redirect_uri": "https://app.example.com/callback", "state": "h"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://app.example.com/callback?state=h"
    assert (await http.get(ME)).status_code == 401


async def test_id_token_hint_for_another_client_than_client_id_is_ignored(
    http: httpx.AsyncClient, world: World
) -> None:
    """RP-Initiated Logout 1.0 section 2: when both are sent, client_id must match the hint's aud."""
    hint = await openid_id_token(http, world)
    response = await http.get(
        LOGOUT,
        params={
            "id_token_hint": hint,
            "client_id": world.legacy.client_id,
            "post_logout_redirect_uri": "https://legacy.example.com/cb",
        },
    )
    assert_signed_out_page(response)


async def test_a_forged_id_token_hint_is_ignored(http: httpx.AsyncClient, world: World) -> None:
    hint = await openid_id_token(http, world)
    header, body, signature = hint.split(".")
    forged = f"{header}.{body}.{signature[:-4]}AAAA"
    response = await http.get(
        LOGOUT, params={"id_token_hint": forged, "post_logout_redirect_uri": "https://app.example.com/callback"}
    )
    assert_signed_out_page(response)


async def test_post_logout_redirect_uri_of_another_client_is_ignored(http: httpx.AsyncClient, world: World) -> None:
    """RP-Initiated Logout 1.0 section 3: it must be registered for that client."""
    await signed_in(http, world)
    response = await http.get(
        LOGOUT,
        params={
            "client_id": world.web.client_id,
            "post_logout_redirect_uri": "https://legacy.example.com/cb",
            "state": "s",
        },
    )
    assert_signed_out_page(response)
    assert "state=" not in response.text
    assert (await http.get(ME)).status_code == 401


async def test_post_logout_redirect_uri_without_a_client_is_ignored(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    response = await http.get(LOGOUT, params={"post_logout_redirect_uri": "https://app.example.com/callback"})
    assert_signed_out_page(response)


async def test_post_logout_redirect_uri_with_an_unknown_client_is_ignored(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    response = await http.get(
        LOGOUT, params={"client_id": "no-such-client", "post_logout_redirect_uri": "https://app.example.com/callback"}
    )
    assert_signed_out_page(response)


async def test_logout_when_not_signed_in_shows_the_signed_out_page(http: httpx.AsyncClient, world: World) -> None:
    assert_signed_out_page(await http.get(LOGOUT))


async def test_after_logout_the_authorization_endpoint_asks_to_sign_in(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    await http.get(LOGOUT)
    response = await http.get(
        "/oauth/authorizations/new",
        params={
            "response_type": "code",
            "client_id": world.web.client_id,
            "redirect_uri": world.web.redirect_uri,
            "scope": "read",
            "prompt": "none",
            "state": "z",
        },
    )
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params["error"] == "login_required"
