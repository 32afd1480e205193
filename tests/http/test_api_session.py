"""Calling the API from a signed-in browser: INTERFACE.md "Calling the API" (the session's
authenticity_token, and the X-CSRF-Token rule for methods other than GET/HEAD/OPTIONS).

Only GET is routed for users/me, so the CSRF rule is exercised on the Tokens API's POST
and DELETE, the state-changing /api/v2 calls that exist.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support import World, sign_in

pytestmark = pytest.mark.anyio

ME = "/api/v2/users/me"
TOKENS = "/api/v2/oauth/tokens"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in_as(http: httpx.AsyncClient, email: str) -> str:
    """Sign in through the login form; return the session's authenticity_token."""
    response = await sign_in(http, email)
    assert response.status_code == 303, response.text
    me = await http.get(ME)
    assert me.status_code == 200, me.text
    return str(me.json()["user"]["authenticity_token"])


async def machine_token(http: httpx.AsyncClient, world: World) -> str:
    response = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def token_id(http: httpx.AsyncClient, token: str) -> int:
    current = await http.get(f"{TOKENS}/current", headers=bearer(token))
    assert current.status_code == 200, current.text
    return int(current.json()["token"]["id"])


def creation(world: World) -> dict[str, object]:
    return {"token": {"client_id": world.web.client.id, "scopes": ["read"]}}


def assert_csrf_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert "X-CSRF-Token" in response.json()["description"]


@pytest.mark.parametrize("path", [ME, ME + ".json"])
async def test_users_me_with_a_session_includes_the_authenticity_token(
    http: httpx.AsyncClient, world: World, path: str
) -> None:
    await sign_in(http, world.user.email)
    response = await http.get(path)
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["id"] == world.user.id
    assert user["email"] == "user@example.com"
    assert user["role"] == "end-user"
    assert isinstance(user["authenticity_token"], str)
    assert len(user["authenticity_token"]) >= 20


async def test_head_needs_no_csrf_token(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    response = await http.head(ME)
    assert response.status_code == 200


async def test_bearer_is_preferred_over_the_session(http: httpx.AsyncClient, world: World) -> None:
    token = await machine_token(http, world)  # acts as world.admin
    await sign_in(http, world.user.email)
    response = await http.get(ME, headers=bearer(token))
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["id"] == world.admin.id
    assert "authenticity_token" not in user


async def test_post_with_a_session_and_without_the_csrf_header_is_403_naming_it(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in_as(http, world.admin.email)
    response = await http.post(TOKENS, json=creation(world))
    assert_csrf_refused(response)
    # Nothing was created.
    listing = await http.get(TOKENS)
    assert listing.status_code == 200, listing.text
    assert listing.json()["tokens"] == []


async def test_post_with_a_wrong_csrf_token_is_403(http: httpx.AsyncClient, world: World) -> None:
    authenticity_token = await signed_in_as(http, world.admin.email)
    wrong = authenticity_token[:-2] + ("AA" if not authenticity_token.endswith("AA") else "BB")
    response = await http.post(TOKENS, json=creation(world), headers={"X-CSRF-Token": wrong})
    assert_csrf_refused(response)


async def test_post_with_the_sessions_csrf_token_succeeds(http: httpx.AsyncClient, world: World) -> None:
    authenticity_token = await signed_in_as(http, world.admin.email)
    response = await http.post(TOKENS, json=creation(world), headers={"X-CSRF-Token": authenticity_token})
    assert response.status_code == 201, response.text
    created = response.json()["token"]
    assert created["user_id"] == world.admin.id
    assert created["full_token"].startswith("tsa_")


async def test_an_earlier_sessions_csrf_token_is_refused_after_signing_in_again(
    http: httpx.AsyncClient, world: World
) -> None:
    old = await signed_in_as(http, world.admin.email)
    new = await signed_in_as(http, world.admin.email)  # the session identifier changes at sign-in
    assert new != old
    assert_csrf_refused(await http.post(TOKENS, json=creation(world), headers={"X-CSRF-Token": old}))


async def test_delete_with_a_session_needs_the_csrf_header(http: httpx.AsyncClient, world: World) -> None:
    token = await machine_token(http, world)
    victim = await token_id(http, token)
    authenticity_token = await signed_in_as(http, world.admin.email)

    refused = await http.delete(f"{TOKENS}/{victim}")
    assert_csrf_refused(refused)
    assert (await http.get(ME, headers=bearer(token))).status_code == 200

    allowed = await http.delete(f"{TOKENS}/{victim}", headers={"X-CSRF-Token": authenticity_token})
    assert allowed.status_code == 204, allowed.text
    assert (await http.get(ME, headers=bearer(token))).status_code == 401


async def test_a_bearer_call_needs_no_csrf_header(http: httpx.AsyncClient, world: World) -> None:
    """The CSRF rule is for sessions: a bearer token is not sent by the browser on its own."""
    response = await http.post(
        "/oauth/tokens",
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read write"},
    )
    token = response.json()["access_token"]
    created = await http.post(TOKENS, json=creation(world), headers=bearer(token))
    assert created.status_code == 201, created.text
