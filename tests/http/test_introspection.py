"""Token introspection, POST /oauth/introspect: RFC 7662 sections 2.1-2.3.

Section 2.1: the endpoint "MUST require some form of authorization"; section 2.2: the
members of an active answer; "If the introspection call is properly authorized but the
token is not active, does not exist on this server, or the protected resource is not
allowed to introspect this particular token, then the authorization server MUST return an
introspection response with the "active" field set to "false"" and section 2.2 again:
"the authorization server SHOULD NOT include any additional information about an inactive
token". The clock is frozen, so iat and exp are exact.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, code_tokens, make_world

pytestmark = pytest.mark.anyio

INACTIVE = {"active": False}
THIRTY_DAYS = 2_592_000


class FrozenClock(Clock):
    """Time that moves only when the test advances it."""

    def __init__(self) -> None:
        super().__init__()
        self.start = float(int(time.time()))

    def __call__(self) -> float:
        return self.start + self.offset


@pytest.fixture
def clock() -> Clock:
    return FrozenClock()


@pytest.fixture
async def elsewhere(stores: Stores, clock: Clock) -> World:
    """A second account on the same server."""
    return await make_world(stores, clock)


@pytest.fixture
async def http_elsewhere(app, elsewhere: World) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=elsewhere.origin) as client:
        yield client


async def _introspect(http: httpx.AsyncClient, caller: RegisteredClient, token: str, **extra: str) -> dict[str, Any]:
    response = await http.post("/oauth/introspect", auth=caller.basic(), data={"token": token, **extra})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    return response.json()  # type: ignore[no-any-return]


async def _resource_server(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A client created with --introspection."""
    return await add_client(
        stores, world.account, clock(), name="Resource Server", introspection=True, grant_types=("client_credentials",)
    )


# --- Section 2.1: who may ask -------------------------------------------------------------


async def test_introspection_needs_client_authentication(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await http.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "active" not in response.json()


async def test_a_wrong_basic_secret_is_invalid_client_with_a_challenge(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    response = await http.post(
        "/oauth/introspect", auth=(world.web.client_id, "tss_wrong"), data={"token": tokens["access_token"]}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_a_public_client_may_not_introspect(http: httpx.AsyncClient, world: World) -> None:
    """A public client cannot authenticate, so it gets no answer about any token."""
    tokens = await code_tokens(http, world.spa, world.user.email)
    response = await http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": world.spa.client_id}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "confidential" in response.json()["error_description"]


async def test_a_public_client_over_basic_is_refused_with_a_basic_challenge(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 5.2 and INTERFACE.md section 4: invalid_client is 401 with
    WWW-Authenticate: Basic when Basic was used, here a public client's id and an empty
    secret."""
    tokens = await code_tokens(http, world.spa, world.user.email)
    response = await http.post(
        "/oauth/introspect", auth=(world.spa.client_id, ""), data={"token": tokens["access_token"]}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "confidential" in response.json()["error_description"]
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_a_missing_token_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post("/oauth/introspect", auth=world.web.basic(), data={})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "token is required" in response.json()["error_description"]


# --- Section 2.2: an active token ---------------------------------------------------------


async def test_a_client_introspects_its_own_access_token(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    issued_at = int(clock())
    tokens = await code_tokens(http, world.web, world.user.email, scope="read write")
    assert await _introspect(http, world.web, tokens["access_token"]) == {
        "active": True,
        "scope": "read write",
        "client_id": world.web.client_id,
        "username": "user@example.com",
        "sub": str(world.user.id),
        "exp": issued_at + 1800,
        "iat": issued_at,
        "token_type": "bearer",
        "aud": world.origin + "/api/v2",
        "iss": world.origin,
    }


async def test_a_refresh_token_is_active_until_it_is_used(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    issued_at = int(clock())
    tokens = await code_tokens(http, world.web, world.user.email)
    assert await _introspect(http, world.web, tokens["refresh_token"]) == {
        "active": True,
        "scope": "read",
        "client_id": world.web.client_id,
        "username": "user@example.com",
        "sub": str(world.user.id),
        "exp": issued_at + THIRTY_DAYS,
        "iat": issued_at,
        "token_type": "refresh_token",
        "aud": world.origin + "/api/v2",
        "iss": world.origin,
    }
    clock.advance(5)
    refreshed = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    assert await _introspect(http, world.web, tokens["refresh_token"]) == INACTIVE
    assert await _introspect(http, world.web, tokens["access_token"]) == INACTIVE  # revoked by the refresh
    new = await _introspect(http, world.web, refreshed.json()["refresh_token"])
    assert new["active"] is True
    assert new["iat"] == issued_at + 5


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "something_else"])
async def test_the_hint_does_not_hide_a_token(http: httpx.AsyncClient, world: World, hint: str) -> None:
    """Section 2.1: the server "MUST extend its search across all of its supported token types"."""
    tokens = await code_tokens(http, world.web, world.user.email)
    access = await _introspect(http, world.web, tokens["access_token"], token_type_hint=hint)
    refresh = await _introspect(http, world.web, tokens["refresh_token"], token_type_hint=hint)
    assert (access["active"], access["token_type"]) == (True, "bearer")
    assert (refresh["active"], refresh["token_type"]) == (True, "refresh_token")


async def test_a_legacy_non_expiring_token_has_no_exp(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    issued_at = int(clock())
    issued = await http.post(
        "/oauth/tokens",
        auth=world.legacy.basic(),
        data={
            "grant_type": "password",
            "username": world.user.email,
            "password": "correct horse battery",
            "scope": "read",
        },
    )
    assert issued.status_code == 200, issued.text
    assert "expires_in" not in issued.json()
    assert await _introspect(http, world.legacy, issued.json()["access_token"]) == {
        "active": True,
        "scope": "read",
        "client_id": world.legacy.client_id,
        "username": "user@example.com",
        "sub": str(world.user.id),
        "iat": issued_at,
        "token_type": "bearer",
        "aud": world.origin + "/api/v2",
        "iss": world.origin,
    }
    clock.advance(10 * 365 * 86400)
    assert (await _introspect(http, world.legacy, issued.json()["access_token"]))["active"] is True


async def test_a_client_credentials_token_names_the_owner(http: httpx.AsyncClient, world: World) -> None:
    issued = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    body = await _introspect(http, world.machine, issued.json()["access_token"])
    assert body["active"] is True
    assert body["client_id"] == world.machine.client_id
    assert body["username"] == "admin@example.com"
    assert body["sub"] == str(world.admin.id)


# --- Section 2.2: tokens the caller may not see, and inactive tokens ----------------------


async def test_another_clients_token_is_just_inactive(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    other = await add_client(stores, world.account, clock(), redirect_uris=("https://other.example.com/cb",))
    assert await _introspect(http, other, tokens["access_token"]) == INACTIVE
    assert await _introspect(http, other, tokens["refresh_token"]) == INACTIVE
    assert await _introspect(http, world.machine, tokens["access_token"]) == INACTIVE


async def test_an_unknown_token_is_inactive(http: httpx.AsyncClient, world: World) -> None:
    for token in ("tsa_" + "x" * 43, "tsr_" + "y" * 43, "garbage"):
        assert await _introspect(http, world.web, token) == INACTIVE


async def test_a_resource_server_sees_any_token_of_its_account(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    issued_at = int(clock())
    rs = await _resource_server(stores, world, clock)
    tokens = await code_tokens(http, world.web, world.user.email)
    assert await _introspect(http, rs, tokens["access_token"]) == {
        "active": True,
        "scope": "read",
        "client_id": world.web.client_id,
        "username": "user@example.com",
        "sub": str(world.user.id),
        "exp": issued_at + 1800,
        "iat": issued_at,
        "token_type": "bearer",
        "aud": world.origin + "/api/v2",
        "iss": world.origin,
    }
    spa = await code_tokens(http, world.spa, world.admin.email)
    seen = await _introspect(http, rs, spa["access_token"])
    assert (seen["active"], seen["client_id"], seen["username"]) == (True, world.spa.client_id, "admin@example.com")


async def test_a_resource_server_does_not_see_tokens_of_another_account(
    http: httpx.AsyncClient,
    http_elsewhere: httpx.AsyncClient,
    world: World,
    elsewhere: World,
    stores: Stores,
    clock: Clock,
) -> None:
    rs = await _resource_server(stores, world, clock)
    theirs = await code_tokens(http_elsewhere, elsewhere.web, elsewhere.user.email)
    assert await _introspect(http, rs, theirs["access_token"]) == INACTIVE
    assert await _introspect(http, rs, theirs["refresh_token"]) == INACTIVE
    # nor can it ask the other account's host: it is not a client there
    response = await http_elsewhere.post("/oauth/introspect", auth=rs.basic(), data={"token": theirs["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # the other account's own resource server does see it
    their_rs = await _resource_server(stores, elsewhere, clock)
    assert (await _introspect(http_elsewhere, their_rs, theirs["access_token"]))["active"] is True


async def test_an_expired_access_token_is_just_inactive(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    rs_tokens = await code_tokens(http, world.web, world.user.email)
    clock.advance(1799)
    assert (await _introspect(http, world.web, rs_tokens["access_token"]))["active"] is True
    clock.advance(1)
    assert await _introspect(http, world.web, rs_tokens["access_token"]) == INACTIVE


async def test_an_expired_refresh_token_is_just_inactive(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    clock.advance(THIRTY_DAYS)
    assert await _introspect(http, world.web, tokens["refresh_token"]) == INACTIVE


async def test_a_revoked_token_is_just_inactive(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    rs = await _resource_server(stores, world, clock)
    tokens = await code_tokens(http, world.web, world.user.email)
    revoked = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": tokens["refresh_token"]})
    assert revoked.status_code == 200
    for caller in (world.web, rs):
        assert await _introspect(http, caller, tokens["access_token"]) == INACTIVE
        assert await _introspect(http, caller, tokens["refresh_token"]) == INACTIVE
