"""RP-initiated logout at the end_session_endpoint /access/logout: OpenID Connect
RP-Initiated Logout 1.0 sections 2, 3 and 4; INTERFACE.md section 4 (issue 5 item 4).

Section 2: "When an id_token_hint parameter is present, the OP MUST validate that it was
the issuer of the ID Token." Section 3: "The OP MUST NOT perform post-logout redirection
if the post_logout_redirect_uri value supplied does not exactly match one of the
previously registered post_logout_redirect_uris values" (Tessera: the client's redirect
URIs). Section 4: without a redirection the OP shows its own signed-out page.
Whatever the destination, logout ends the session on the server (INTERFACE.md section 5).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tessera.management import accounts
from tessera.storage.stores import Stores
from tests.http.test_signing_keys import b64url_decode, code_flow_tokens
from tests.support import Clock, World, authorize_url, make_world, query_of

pytestmark = pytest.mark.anyio

SESSION_COOKIE = "tessera_session"
WEB_URI = "https://app.example.com/callback"  # the web client's first registered redirect URI


async def _signed_in_with_id_token(http: httpx.AsyncClient, world: World) -> tuple[str, str]:
    """The ID token for the web client, and the session cookie the browser holds."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    cookie = http.cookies.get(SESSION_COOKIE)
    assert cookie
    return tokens["id_token"], cookie


async def _session_is_over(app: Any, world: World, cookie: str) -> None:
    """The old cookie, replayed by another browser, no longer signs anyone in: the server
    ended the session (deleting the cookie in the browser alone would not do)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=world.origin, cookies={SESSION_COOKIE: cookie}
    ) as replay:
        me = await replay.get("/api/v2/users/me")
        assert me.status_code == 401
        silent = await replay.get(authorize_url(world.web, scope="openid", prompt="none"))
        assert query_of(silent.headers["location"])["error"] == "login_required"


async def test_the_replay_check_sees_a_live_session(app: Any, http: httpx.AsyncClient, world: World) -> None:
    """The check above is meaningful: before logout the same replay is signed in."""
    _, cookie = await _signed_in_with_id_token(http, world)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=world.origin, cookies={SESSION_COOKIE: cookie}
    ) as replay:
        assert (await replay.get("/api/v2/users/me")).status_code == 200


def _signed_out_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.headers.get("location")
    assert "location" not in response.headers
    assert "signed out" in response.text


async def test_hint_and_registered_uri_redirect_with_state(app: Any, http: httpx.AsyncClient, world: World) -> None:
    """Section 2: the OP redirects to post_logout_redirect_uri with state."""
    hint, cookie = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI, "state": "af0ifjsldkj"},
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"{WEB_URI}?state=af0ifjsldkj"
    await _session_is_over(app, world, cookie)


async def test_state_is_encoded(http: httpx.AsyncClient, world: World) -> None:
    hint, _ = await _signed_in_with_id_token(http, world)
    state = "a b&c=d/é"
    response = await http.get(
        "/access/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI, "state": state}
    )
    location = response.headers["location"]
    assert location.startswith(WEB_URI + "?")
    assert query_of(location) == {"state": state}


async def test_no_state_no_state_parameter(http: httpx.AsyncClient, world: World) -> None:
    hint, _ = await _signed_in_with_id_token(http, world)
    response = await http.get("/access/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI})
    assert response.headers["location"] == WEB_URI


async def test_post_form_works_too(app: Any, http: httpx.AsyncClient, world: World) -> None:
    """Section 2: the OP "MUST support the use of the HTTP GET and POST methods"."""
    hint, cookie = await _signed_in_with_id_token(http, world)
    response = await http.post(
        "/access/logout", data={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI, "state": "p"}
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"{WEB_URI}?state=p"
    await _session_is_over(app, world, cookie)


async def test_unregistered_uri_shows_the_signed_out_page(app: Any, http: httpx.AsyncClient, world: World) -> None:
    hint, cookie = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": "https://evil.example.com/", "state": "x"},
    )
    _signed_out_page(response)
    await _session_is_over(app, world, cookie)


async def test_uri_registered_for_another_client_is_not_followed(http: httpx.AsyncClient, world: World) -> None:
    """Section 3: the URI must be registered for the client the hint names."""
    hint, _ = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": world.legacy.redirect_uri}
    )
    _signed_out_page(response)


async def test_garbage_hint_is_not_followed(app: Any, http: httpx.AsyncClient, world: World) -> None:
    _, cookie = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout", params={"id_token_hint": "not.a.token", "post_logout_redirect_uri": WEB_URI}
    )
    _signed_out_page(response)
    await _session_is_over(app, world, cookie)


async def test_forged_hint_is_not_followed(http: httpx.AsyncClient, world: World) -> None:
    """Section 2: the OP MUST validate that it issued the hint; a changed payload breaks the
    signature (here: an ID token of the spa client re-addressed to the web client)."""
    tokens = await code_flow_tokens(http, world.spa, world.user.email, scope="openid")
    header, payload, signature = tokens["id_token"].split(".")
    claims = json.loads(b64url_decode(payload))
    assert claims["aud"] == world.spa.client_id
    claims["aud"] = world.web.client_id
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = await http.get(
        "/access/logout",
        params={"id_token_hint": f"{header}.{forged_payload}.{signature}", "post_logout_redirect_uri": WEB_URI},
    )
    _signed_out_page(response)


@pytest.fixture
async def elsewhere(stores: Stores, clock: Clock) -> World:
    return await make_world(stores, clock)


@pytest.fixture
async def http_elsewhere(app: Any, elsewhere: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=elsewhere.origin) as client:
        yield client


async def test_hint_from_another_account_is_not_followed(
    http: httpx.AsyncClient, http_elsewhere: httpx.AsyncClient, world: World, elsewhere: World
) -> None:
    """Another issuer's ID token (other keys, other iss) is no hint here, even when its
    client has the same redirect URI."""
    theirs = (await code_flow_tokens(http_elsewhere, elsewhere.web, elsewhere.user.email, scope="openid"))["id_token"]
    assert elsewhere.web.redirect_uri == WEB_URI
    response = await http.get("/access/logout", params={"id_token_hint": theirs, "post_logout_redirect_uri": WEB_URI})
    _signed_out_page(response)


async def test_client_id_without_a_hint(app: Any, http: httpx.AsyncClient, world: World) -> None:
    """Section 2: client_id identifies the RP when no id_token_hint is sent."""
    _, cookie = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout",
        params={"client_id": world.web.client_id, "post_logout_redirect_uri": WEB_URI, "state": "c"},
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == f"{WEB_URI}?state=c"
    await _session_is_over(app, world, cookie)


async def test_client_id_with_a_uri_of_another_client(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(
        "/access/logout",
        params={"client_id": world.web.client_id, "post_logout_redirect_uri": world.legacy.redirect_uri},
    )
    _signed_out_page(response)


async def test_hint_whose_aud_differs_from_client_id(http: httpx.AsyncClient, world: World) -> None:
    """Section 2: "If both client_id and id_token_hint are present, the OP MUST verify that
    the Client Identifier matches the one used when issuing the ID Token." The URI below is
    registered for both clients, so only that check stops the redirect."""
    hint, _ = await _signed_in_with_id_token(http, world)
    shared_uri = world.spa.redirect_uri
    assert shared_uri in world.web.client.redirect_uris
    response = await http.get(
        "/access/logout",
        params={"id_token_hint": hint, "client_id": world.spa.client_id, "post_logout_redirect_uri": shared_uri},
    )
    _signed_out_page(response)


async def test_hint_and_matching_client_id(http: httpx.AsyncClient, world: World) -> None:
    hint, _ = await _signed_in_with_id_token(http, world)
    response = await http.get(
        "/access/logout",
        params={"id_token_hint": hint, "client_id": world.web.client_id, "post_logout_redirect_uri": WEB_URI},
    )
    assert response.headers["location"] == WEB_URI


async def test_uri_without_any_client_identification(app: Any, http: httpx.AsyncClient, world: World) -> None:
    """Section 3: with neither id_token_hint nor client_id the OP cannot know the URI is
    registered for the RP asking, so it does not redirect."""
    _, cookie = await _signed_in_with_id_token(http, world)
    response = await http.get("/access/logout", params={"post_logout_redirect_uri": WEB_URI})
    _signed_out_page(response)
    await _session_is_over(app, world, cookie)


async def test_expired_hint_still_identifies_the_client(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """Section 2: "The OP SHOULD accept ID Tokens when the RP identified by the ID Token's
    aud claim ... had a recent session at the OP, even when the exp time has passed"."""
    hint, _ = await _signed_in_with_id_token(http, world)
    claims = json.loads(b64url_decode(hint.split(".")[1]))
    clock.advance(claims["exp"] - claims["iat"] + 60)
    response = await http.get("/access/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI})
    assert response.headers["location"] == WEB_URI


async def test_logout_without_a_session_still_redirects(http: httpx.AsyncClient, world: World) -> None:
    """A second logout (the session already over) still sends the browser back."""
    hint, _ = await _signed_in_with_id_token(http, world)
    await http.get("/access/logout")
    response = await http.get(
        "/access/logout", params={"id_token_hint": hint, "post_logout_redirect_uri": WEB_URI, "state": "again"}
    )
    assert response.headers["location"] == f"{WEB_URI}?state=again"


async def test_discovery_names_this_endpoint(http: httpx.AsyncClient, world: World) -> None:
    doc = (await http.get("/.well-known/openid-configuration")).json()
    assert doc["end_session_endpoint"] == f"{world.origin}/access/logout"


async def test_a_self_registered_clients_uris_are_never_followed(
    stores: Stores, http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """RFC 9700 section 4.11.2: with open registration anyone can register a client, and
    with it a redirect URI, then sign in to get an ID token for it. Logout must not become
    a redirect to that site: a self-registered client's post_logout_redirect_uri is not
    followed, with or without a hint, and its URIs do not count for return_to."""
    phish = "https://phish.example/login"
    await accounts.set_registration_policy(stores, world.subdomain, "open")
    registered = await http.post(
        "/oauth/register",
        json={"client_name": "Rogue", "redirect_uris": [phish], "token_endpoint_auth_method": "none"},
    )
    assert registered.status_code == 201, registered.text
    rogue = registered.json()["client_id"]
    for params in (
        {"client_id": rogue, "post_logout_redirect_uri": phish},
        {"return_to": phish},
    ):
        response = await http.get("/access/logout", params=params)
        assert response.status_code == 200, params
        assert "You are signed out" in response.text
