"""Token revocation, POST /oauth/revoke: RFC 7009 sections 2.1 and 2.2.

Section 2.1: the client authenticates, the server checks that the token was issued to
it, and revoking a refresh token also invalidates the access tokens of the same grant.
Section 2.2: 200 also when the token is invalid, unknown or not this server's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, code_tokens, make_world

pytestmark = pytest.mark.anyio


async def _revoke(http: httpx.AsyncClient, client: RegisteredClient, **data: str) -> httpx.Response:
    if client.secret is None:
        return await http.post("/oauth/revoke", data={**data, "client_id": client.client_id})
    return await http.post("/oauth/revoke", auth=client.basic(), data=data)


async def _refresh(http: httpx.AsyncClient, client: RegisteredClient, refresh_token: str) -> httpx.Response:
    return await http.post(
        "/oauth/tokens", auth=client.basic(), data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def _me(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


async def _introspect(http: httpx.AsyncClient, client: RegisteredClient, token: str) -> dict[str, Any]:
    response = await http.post("/oauth/introspect", auth=client.basic(), data={"token": token})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _assert_revoked_at_api(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert "revoked" in response.json()["description"]


def _assert_refresh_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert "revoked" in response.json()["error_description"]


@pytest.fixture
async def elsewhere(stores: Stores, clock: Clock) -> World:
    """A second account on the same server."""
    return await make_world(stores, clock)


@pytest.fixture
async def http_elsewhere(app, elsewhere: World) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=elsewhere.origin) as client:
        yield client


# --- Section 2.1: client authentication --------------------------------------------------


async def test_revocation_without_client_authentication_is_invalid_client(
    http: httpx.AsyncClient, world: World
) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await http.post("/oauth/revoke", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "client authentication is required" in response.json()["error_description"]
    assert "www-authenticate" not in response.headers
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_a_wrong_basic_secret_is_invalid_client_with_a_basic_challenge(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 5.2: 401 and WWW-Authenticate when the client used Basic."""
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await http.post(
        "/oauth/revoke", auth=(world.web.client_id, "tss_wrong"), data={"token": tokens["access_token"]}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_a_wrong_body_secret_is_invalid_client_without_a_challenge(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await http.post(
        "/oauth/revoke",
        data={"token": tokens["access_token"], "client_id": world.web.client_id, "client_secret": "tss_wrong"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" not in response.headers
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_a_body_secret_authenticates_too(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    assert world.web.secret is not None
    response = await http.post(
        "/oauth/revoke",
        data={"token": tokens["access_token"], "client_id": world.web.client_id, "client_secret": world.web.secret},
    )
    assert response.status_code == 200
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))


async def test_a_missing_token_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await _revoke(http, world.web)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "token is required" in response.json()["error_description"]


# --- Section 2.2: 200 for tokens the server does not know or will not touch --------------


async def test_an_unknown_token_gets_200(http: httpx.AsyncClient, world: World) -> None:
    """Section 2.2: "invalid tokens do not cause an error response"."""
    for token in ("tsa_" + "x" * 43, "tsr_" + "y" * 43, "not-a-token-at-all"):
        response = await _revoke(http, world.web, token=token)
        assert response.status_code == 200, response.text
        assert response.content == b""


async def test_revoking_twice_gets_200_both_times(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    assert (await _revoke(http, world.web, token=tokens["access_token"])).status_code == 200
    assert (await _revoke(http, world.web, token=tokens["access_token"])).status_code == 200
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))


async def test_a_token_of_another_account_gets_200_and_stays_valid(
    http: httpx.AsyncClient, http_elsewhere: httpx.AsyncClient, world: World, elsewhere: World
) -> None:
    theirs = await code_tokens(http_elsewhere, elsewhere.web, elsewhere.user.email)
    for token in (theirs["access_token"], theirs["refresh_token"]):
        response = await _revoke(http, world.web, token=token)
        assert response.status_code == 200
    assert (await _me(http_elsewhere, theirs["access_token"])).status_code == 200
    assert (await _refresh(http_elsewhere, elsewhere.web, theirs["refresh_token"])).status_code == 200


async def test_a_token_of_another_client_is_refused_and_not_revoked(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2.1: the server "verifies whether the token was issued to the client making the
    revocation request. If this validation fails, the request is refused"."""
    tokens = await code_tokens(http, world.web, world.user.email)
    other = await add_client(stores, world.account, clock(), redirect_uris=("https://other.example.com/cb",))
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = await _revoke(http, other, token=token)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "unauthorized_client"
        assert "issued to another client" in response.json()["error_description"]
    # a public client of the same account may not either
    refused = await _revoke(http, world.spa, token=tokens["access_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    assert (await _me(http, tokens["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, tokens["refresh_token"])).status_code == 200


# --- What revocation revokes --------------------------------------------------------------


async def test_revoking_an_access_token_revokes_it_alone(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await _revoke(http, world.web, token=tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))
    assert await _introspect(http, world.web, tokens["access_token"]) == {"active": False}
    # Section 2.1 leaves the refresh token alone here; it still gets a fresh access token.
    refreshed = await _refresh(http, world.web, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert (await _me(http, refreshed.json()["access_token"])).status_code == 200


async def test_a_token_in_use_is_refused_on_the_very_next_call(http: httpx.AsyncClient, world: World) -> None:
    """Section 2.2: "invalidation takes place immediately". The token was just used, so
    this node remembers it (storage/tokens.py); the revocation must empty that memory."""
    tokens = await code_tokens(http, world.web, world.user.email)
    assert (await _me(http, tokens["access_token"])).status_code == 200
    assert (await _introspect(http, world.web, tokens["access_token"]))["active"] is True
    assert (await _revoke(http, world.web, token=tokens["refresh_token"])).status_code == 200
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))
    assert await _introspect(http, world.web, tokens["access_token"]) == {"active": False}


async def test_revoking_a_refresh_token_revokes_its_family(http: httpx.AsyncClient, world: World) -> None:
    """Section 2.1: the server "SHOULD also invalidate all access tokens based on the same
    authorization grant"."""
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await _revoke(http, world.web, token=tokens["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))
    _assert_refresh_refused(await _refresh(http, world.web, tokens["refresh_token"]))
    assert await _introspect(http, world.web, tokens["refresh_token"]) == {"active": False}


async def test_revoking_a_rotated_refresh_token_revokes_what_descended_from_it(
    http: httpx.AsyncClient, world: World
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    second = (await _refresh(http, world.web, first["refresh_token"])).json()
    assert (await _revoke(http, world.web, token=second["refresh_token"])).status_code == 200
    _assert_revoked_at_api(await _me(http, second["access_token"]))
    _assert_refresh_refused(await _refresh(http, world.web, second["refresh_token"]))


async def test_revoking_one_authorization_leaves_the_others(http: httpx.AsyncClient, world: World) -> None:
    mine = await code_tokens(http, world.web, world.user.email)
    admins = await code_tokens(http, world.web, world.admin.email)
    assert (await _revoke(http, world.web, token=mine["refresh_token"])).status_code == 200
    _assert_revoked_at_api(await _me(http, mine["access_token"]))
    assert (await _me(http, admins["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, admins["refresh_token"])).status_code == 200


@pytest.mark.parametrize("hint", ["refresh_token", "bogus_type"])
async def test_an_access_token_is_found_whatever_the_hint(http: httpx.AsyncClient, world: World, hint: str) -> None:
    """Section 2.1: "If the server is unable to locate the token using the given hint, it MUST
    extend its search across all of its supported token types"."""
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await _revoke(http, world.web, token=tokens["access_token"], token_type_hint=hint)
    assert response.status_code == 200
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))


@pytest.mark.parametrize("hint", ["access_token", "bogus_type"])
async def test_a_refresh_token_is_found_whatever_the_hint(http: httpx.AsyncClient, world: World, hint: str) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await _revoke(http, world.web, token=tokens["refresh_token"], token_type_hint=hint)
    assert response.status_code == 200
    _assert_refresh_refused(await _refresh(http, world.web, tokens["refresh_token"]))
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))


async def test_a_public_client_revokes_its_own_token_with_its_client_id(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.spa, world.user.email)
    response = await _revoke(http, world.spa, token=tokens["refresh_token"])
    assert response.status_code == 200, response.text
    _assert_revoked_at_api(await _me(http, tokens["access_token"]))


async def test_a_client_credentials_token_can_be_revoked(http: httpx.AsyncClient, world: World) -> None:
    issued = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    token = issued.json()["access_token"]
    assert (await _me(http, token)).status_code == 200
    assert (await _revoke(http, world.machine, token=token)).status_code == 200
    _assert_revoked_at_api(await _me(http, token))
