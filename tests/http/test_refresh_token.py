"""The refresh token grant: RFC 6749 section 6, with rotation and reuse detection as
RFC 9700 section 4.14.2 describes and INTERFACE.md "Single use and rotation" pins down.

The clock here is frozen (it moves only when a test advances it), so the grace-window
boundary and the "expired N seconds ago" descriptions are exact.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.admin_support import bearer
from tests.support import (
    Clock,
    RegisteredClient,
    World,
    add_client,
    code_tokens,
    make_world,
    obtain_code,
    pkce_pair,
    token_request,
)

pytestmark = pytest.mark.anyio

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


async def _refresh(
    http: httpx.AsyncClient, client: RegisteredClient, refresh_token: str, **params: str
) -> httpx.Response:
    return await token_request(http, client, {"grant_type": "refresh_token", "refresh_token": refresh_token, **params})


async def _me(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


def _assert_refused_by_api(response: httpx.Response, reason: str) -> None:
    """RFC 6750 section 3.1: a revoked or expired token is invalid_token, with the reason."""
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert reason in response.json()["description"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _assert_invalid_grant(response: httpx.Response, words: str) -> None:
    """RFC 6749 section 5.2: invalid_grant is a 400 with a description saying why."""
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert words in response.json()["error_description"]


# --- Section 6: each use returns new tokens and revokes the previous access token ---------


async def test_a_refresh_returns_a_new_access_and_refresh_token(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    response = await _refresh(http, world.web, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "scope",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read"
    assert body["expires_in"] == 1800
    assert body["refresh_token_expires_in"] == THIRTY_DAYS
    assert body["access_token"].startswith("tsa_") and body["access_token"] != first["access_token"]
    assert body["refresh_token"].startswith("tsr_") and body["refresh_token"] != first["refresh_token"]
    me = await _me(http, body["access_token"])
    assert me.status_code == 200
    assert me.json()["user"]["email"] == world.user.email


async def test_a_refresh_revokes_the_previous_access_token(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    assert (await _me(http, first["access_token"])).status_code == 200
    second = (await _refresh(http, world.web, first["refresh_token"])).json()
    _assert_refused_by_api(await _me(http, first["access_token"]), "revoked")
    # and the chain goes on: the next refresh revokes the second access token
    third = (await _refresh(http, world.web, second["refresh_token"])).json()
    _assert_refused_by_api(await _me(http, second["access_token"]), "revoked")
    assert (await _me(http, third["access_token"])).status_code == 200


async def test_a_used_refresh_token_cannot_be_used_again(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9700 section 4.14.2: refresh token rotation, each token used once."""
    first = await code_tokens(http, world.web, world.user.email)
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200
    again = await _refresh(http, world.web, first["refresh_token"])
    _assert_invalid_grant(again, "just used")


# --- Section 6: "MUST NOT include any scope not originally granted" -------------------------


async def test_a_refresh_may_narrow_the_scope_and_a_later_one_gets_the_original_back(
    http: httpx.AsyncClient, world: World
) -> None:
    """Section 6: scope "if omitted is treated as equal to the scope originally granted"."""
    first = await code_tokens(http, world.web, world.user.email, scope="read write")
    assert first["scope"] == "read write"
    narrowed = await _refresh(http, world.web, first["refresh_token"], scope="read")
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "read"
    # The narrowed access token really lacks write: deleting needs users:write.
    refused = await http.delete(
        "/api/v2/oauth/tokens/current", headers={"Authorization": f"Bearer {narrowed.json()['access_token']}"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"

    restored = await _refresh(http, world.web, narrowed.json()["refresh_token"])
    assert restored.status_code == 200, restored.text
    assert restored.json()["scope"] == "read write"
    deleted = await http.delete(
        "/api/v2/oauth/tokens/current", headers={"Authorization": f"Bearer {restored.json()['access_token']}"}
    )
    assert deleted.status_code == 204


async def test_a_refresh_may_narrow_to_a_resource_scope_the_grant_covers(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.web, world.user.email, scope="read write")
    narrowed = await _refresh(http, world.web, first["refresh_token"], scope="tickets:read users:write")
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "tickets:read users:write"


@pytest.mark.parametrize(
    ("scope", "words"),
    [
        ("read write", "goes beyond the original grant (read)"),
        ("impersonate", "goes beyond the original grant (read)"),
        ("read bogus", "unknown scope: bogus"),
    ],
)
async def test_a_refresh_cannot_widen_the_scope_or_ask_for_unknown_scopes(
    http: httpx.AsyncClient, world: World, scope: str, words: str
) -> None:
    first = await code_tokens(http, world.web, world.user.email, scope="read")
    response = await _refresh(http, world.web, first["refresh_token"], scope=scope)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"
    assert words in response.json()["error_description"]
    # The refused request did not use up the refresh token, nor revoke anything.
    assert (await _me(http, first["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


# --- RFC 9700 section 4.14.2: concurrent use, reuse detection and the grace window ---------


async def test_of_concurrent_refreshes_exactly_one_wins_and_nothing_is_revoked(
    http: httpx.AsyncClient, world: World
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    responses = await asyncio.gather(*(_refresh(http, world.web, first["refresh_token"]) for _ in range(5)))
    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1, [r.text for r in responses]
    assert len(losers) == 4
    for loser in losers:
        _assert_invalid_grant(loser, "was just used (0 seconds ago, within the 10-second grace window)")
    winner = winners[0].json()
    # Inside the grace window the losers are the client's own refreshers, not thieves.
    assert (await _me(http, winner["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, winner["refresh_token"])).status_code == 200


async def test_reuse_after_the_grace_window_revokes_the_whole_family(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    winner = (await _refresh(http, world.web, first["refresh_token"])).json()
    clock.advance(11)
    replay = await _refresh(http, world.web, first["refresh_token"])
    _assert_invalid_grant(replay, "already used 11 seconds ago")
    assert "every token of this authorization has been revoked" in replay.json()["error_description"]
    _assert_refused_by_api(await _me(http, winner["access_token"]), "revoked")
    _assert_invalid_grant(await _refresh(http, world.web, winner["refresh_token"]), "revoked")


async def test_reuse_exactly_at_the_end_of_the_grace_window_revokes_nothing(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """INTERFACE.md: "Within that window (inclusive) it is refused without revoking"."""
    first = await code_tokens(http, world.web, world.user.email)
    winner = (await _refresh(http, world.web, first["refresh_token"])).json()
    clock.advance(10)
    replay = await _refresh(http, world.web, first["refresh_token"])
    _assert_invalid_grant(replay, "was just used (10 seconds ago, within the 10-second grace window)")
    assert (await _me(http, winner["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, winner["refresh_token"])).status_code == 200


async def test_reuse_of_an_older_token_revokes_tokens_several_rotations_later(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """RFC 9700 section 4.14.2: the family is everything descended from the original grant."""
    first = await code_tokens(http, world.web, world.user.email)
    second = (await _refresh(http, world.web, first["refresh_token"])).json()
    clock.advance(60)
    third = (await _refresh(http, world.web, second["refresh_token"])).json()
    clock.advance(60)
    _assert_invalid_grant(await _refresh(http, world.web, first["refresh_token"]), "has been revoked")
    _assert_refused_by_api(await _me(http, third["access_token"]), "revoked")
    _assert_invalid_grant(await _refresh(http, world.web, third["refresh_token"]), "revoked")


async def test_reuse_revokes_only_its_own_family(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    mine = await code_tokens(http, world.web, world.user.email)
    other = await code_tokens(http, world.web, world.admin.email)
    await _refresh(http, world.web, mine["refresh_token"])
    clock.advance(11)
    _assert_invalid_grant(await _refresh(http, world.web, mine["refresh_token"]), "has been revoked")
    assert (await _me(http, other["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, other["refresh_token"])).status_code == 200


# --- Section 6: the refresh token must belong to the client and still be valid -------------


async def test_a_refresh_token_of_another_client_is_refused_and_left_alone(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 6: the server MUST "ensure that the refresh token was issued to the authenticated client"."""
    first = await code_tokens(http, world.web, world.user.email)
    other = await add_client(stores, world.account, clock(), redirect_uris=("https://other.example.com/cb",))
    _assert_invalid_grant(
        await _refresh(http, other, first["refresh_token"]), "the refresh token was issued to another client"
    )
    _assert_invalid_grant(
        await _refresh(http, world.spa, first["refresh_token"]), "the refresh token was issued to another client"
    )
    # Presenting it elsewhere neither used nor revoked it.
    assert (await _me(http, first["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


async def test_a_confidential_client_must_authenticate_to_refresh(http: httpx.AsyncClient, world: World) -> None:
    """Section 6: the server MUST "require client authentication for confidential clients"."""
    first = await code_tokens(http, world.web, world.user.email)
    without_secret = await http.post(
        "/oauth/tokens",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": world.web.client_id},
    )
    assert without_secret.status_code == 401
    assert without_secret.json()["error"] == "invalid_client"
    wrong_secret = await http.post(
        "/oauth/tokens",
        auth=(world.web.client_id, "tss_wrong"),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    assert wrong_secret.headers["www-authenticate"].startswith("Basic ")
    # neither attempt used the token up
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


async def test_a_refresh_token_of_another_account_is_refused_and_left_alone(
    app, http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    first = await code_tokens(http, world.web, world.user.email)
    other = await make_world(stores, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=other.origin) as http_other:
        response = await _refresh(http_other, other.web, first["refresh_token"])
    _assert_invalid_grant(response, "the refresh token is not valid here")
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


async def test_tokens_of_one_kind_do_not_work_as_the_other(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    _assert_invalid_grant(await _refresh(http, world.web, first["access_token"]), "the refresh token is not valid here")
    as_access = await _me(http, first["refresh_token"])
    assert as_access.status_code == 401
    assert as_access.json()["error"] == "invalid_token"
    assert (await _me(http, first["access_token"])).status_code == 200


async def test_an_unknown_refresh_token_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    response = await _refresh(http, world.web, "tsr_" + "A" * 43)
    _assert_invalid_grant(response, "the refresh token is not valid here")


async def test_a_refresh_token_is_required(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post("/oauth/tokens", auth=world.web.basic(), data={"grant_type": "refresh_token"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "refresh_token" in response.json()["error_description"]


async def test_a_revoked_refresh_token_is_refused_with_the_reason(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    revoked = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": first["refresh_token"]})
    assert revoked.status_code == 200
    _assert_invalid_grant(
        await _refresh(http, world.web, first["refresh_token"]),
        "the refresh token was revoked; the user must authorize the client again",
    )


async def test_an_expired_refresh_token_is_refused_with_the_reason(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    clock.advance(THIRTY_DAYS + 5)
    _assert_invalid_grant(
        await _refresh(http, world.web, first["refresh_token"]),
        "the refresh token expired 5 seconds ago; the user must authorize the client again",
    )


async def test_a_refresh_token_works_until_just_before_it_expires(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    clock.advance(THIRTY_DAYS - 1)
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


# --- Clients: public ones, ones without the refresh_token grant, client_credentials --------


async def test_a_public_client_refreshes_with_its_client_id_alone(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    first = await code_tokens(http, world.spa, world.user.email)
    assert first["refresh_token"].startswith("tsr_")
    second = await http.post(
        "/oauth/tokens",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": world.spa.client_id},
    )
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    _assert_refused_by_api(await _me(http, first["access_token"]), "revoked")
    # RFC 9700 section 4.14.2 exists for public clients above all: reuse revokes the family.
    clock.advance(11)
    _assert_invalid_grant(await _refresh(http, world.spa, first["refresh_token"]), "has been revoked")
    _assert_refused_by_api(await _me(http, second.json()["access_token"]), "revoked")


async def test_a_public_client_refresh_without_client_id_is_refused(http: httpx.AsyncClient, world: World) -> None:
    first = await code_tokens(http, world.spa, world.user.email)
    response = await http.post(
        "/oauth/tokens", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    # and the token was not used up
    assert (await _refresh(http, world.spa, first["refresh_token"])).status_code == 200


async def test_a_client_without_the_refresh_token_grant_gets_no_refresh_token(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    client = await add_client(
        stores, world.account, clock(), grant_types=("authorization_code",), redirect_uris=("https://c.example.com/cb",)
    )
    body = await code_tokens(http, client, world.user.email, scope="read")
    assert "refresh_token" not in body
    assert "refresh_token_expires_in" not in body
    assert body["expires_in"] == 1800


async def test_offline_access_gives_a_refresh_token_to_a_client_without_the_grant(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    client = await add_client(
        stores, world.account, clock(), grant_types=("authorization_code",), redirect_uris=("https://c.example.com/cb",)
    )
    body = await code_tokens(http, client, world.user.email, scope="read offline_access")
    assert body["refresh_token"].startswith("tsr_")
    assert body["refresh_token_expires_in"] == THIRTY_DAYS
    refreshed = await _refresh(http, client, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "read offline_access"
    assert refreshed.json()["refresh_token"].startswith("tsr_")


async def test_expires_in_and_refresh_token_expires_in_apply_to_a_refresh(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    response = await _refresh(
        http, world.web, first["refresh_token"], expires_in="600", refresh_token_expires_in="604800"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == 600
    assert body["refresh_token_expires_in"] == 604_800
    clock.advance(599)
    assert (await _me(http, body["access_token"])).status_code == 200
    clock.advance(1)
    _assert_refused_by_api(await _me(http, body["access_token"]), "the access token expired 0 seconds ago")
    clock.advance(604_800 - 600)
    _assert_invalid_grant(
        await _refresh(http, world.web, body["refresh_token"]), "the refresh token expired 0 seconds ago"
    )


async def test_lifetimes_may_be_json_numbers_on_a_refresh(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md: the token endpoint takes JSON too; lifetimes as numbers or numeric strings."""
    first = await code_tokens(http, world.web, world.user.email)
    response = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        json={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "expires_in": 172_800,
            "refresh_token_expires_in": 7_776_000,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 172_800
    assert response.json()["refresh_token_expires_in"] == 7_776_000


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"expires_in": "299"}, "expires_in must be between 300 and 172800 seconds (inclusive); got 299"),
        ({"expires_in": "172801"}, "expires_in must be between 300 and 172800 seconds (inclusive); got 172801"),
        (
            {"refresh_token_expires_in": "604799"},
            "refresh_token_expires_in must be between 604800 and 7776000 seconds (inclusive); got 604799",
        ),
        (
            {"refresh_token_expires_in": "7776001"},
            "refresh_token_expires_in must be between 604800 and 7776000 seconds (inclusive); got 7776001",
        ),
        ({"expires_in": "ten"}, "expires_in must be a whole number of seconds"),
    ],
)
async def test_out_of_range_lifetimes_on_a_refresh_are_invalid_request(
    http: httpx.AsyncClient, world: World, params: dict[str, str], words: str
) -> None:
    first = await code_tokens(http, world.web, world.user.email)
    response = await _refresh(http, world.web, first["refresh_token"], **params)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert words in response.json()["error_description"]
    # refused before the rotation: the refresh token still works and nothing was revoked
    assert (await _me(http, first["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, first["refresh_token"])).status_code == 200


async def test_client_credentials_never_returns_a_refresh_token(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 6749 section 4.4.3: "A refresh token SHOULD NOT be included"; INTERFACE.md section 5: never."""
    plain = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert plain.status_code == 200, plain.text
    assert set(plain.json()) == {"access_token", "token_type", "scope", "expires_in"}
    # even for a client that is also allowed the refresh_token grant
    both = await add_client(stores, world.account, clock(), grant_types=("client_credentials", "refresh_token"))
    response = await http.post(
        "/oauth/tokens", auth=both.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    assert "refresh_token_expires_in" not in response.json()


async def test_client_credentials_cannot_ask_for_offline_access(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        "/oauth/tokens",
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read offline_access"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "offline_access" in response.json()["error_description"]


async def test_scopes_an_admin_took_from_the_client_are_refused_at_token_time(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 4: a scope outside the client's allowed scopes is invalid_scope
    "at authorization or token time, never a token that fails later". After an admin
    narrows the client, a refresh token (and a code) granted before carry no more than the
    new list: a refresh without scope, or asking for the removed scope, is invalid_scope;
    asking for what is still allowed is served."""
    client = await add_client(
        stores,
        world.account,
        clock(),
        redirect_uris=("https://app.example.com/cb",),
        allowed_scopes=("read", "write"),
    )
    tokens = await code_tokens(http, client, world.user.email, scope="read write")
    pending_verifier, pending_challenge = pkce_pair()
    pending = await obtain_code(
        http,
        client,
        world.user.email,
        scope="read write",
        code_challenge=pending_challenge,
        code_challenge_method="S256",
    )
    # Through the clients API, as an admin does: this app's stores forget the old client.
    admin = await bearer(stores, world, world.admin, "read write", clock)
    narrowing = await http.put(
        f"/api/v2/oauth/clients/{client.client.id}.json", json={"client": {"allowed_scopes": ["read"]}}, headers=admin
    )
    assert narrowing.status_code == 200, narrowing.text

    for extra in ({}, {"scope": "write"}, {"scope": "read write"}):
        refused = await token_request(
            http, client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **extra}
        )
        assert refused.status_code == 400, (extra, refused.text)
        assert refused.json()["error"] == "invalid_scope"
        assert "write" in refused.json()["error_description"]

    narrowed = await token_request(
        http, client, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "read"}
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "read"

    code = {
        "grant_type": "authorization_code",
        "code": pending["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": pending_verifier,
    }
    refused_code = await token_request(http, client, code)
    assert refused_code.status_code == 400
    assert refused_code.json()["error"] == "invalid_scope"
