"""protocol/grants/refresh_token.py: RFC 6749 section 6; RFC 9700 section 4.14.2; INTERFACE.md
section 4 "Single use and rotation" (rotation, narrowing, the reuse grace window, theft).

The refresh token presented is RFC 6749 section 6's example, tGzv3JOkF0XG5Qx2TlKWIA, issued
at NOW - 100 with section 5.1's access token 2YotnFZFEjr1zCsicMWpAA.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tessera.model import RefreshToken
from tessera.protocol import secrets
from tessera.protocol.errors import InvalidGrant, InvalidScope, UnauthorizedClient
from tessera.protocol.grants import refresh_token
from tessera.storage.memory.tokens import MemoryTokenStore
from tests.unit.memory_server import ACCESS_TOKEN, FAMILY, NOW, REFRESH_REQUEST, Server, server, sha256

pytestmark = pytest.mark.anyio

# A client allowed offline_access: only such a client is ever granted it.
OFFLINE = ("read", "write", "offline_access")

PRESENTED = sha256(REFRESH_REQUEST["refresh_token"])
THEFT = "already used .* treated as stolen, so every token of this authorization has been revoked"
JUST_USED = "just used .* within the 10-second grace window"


async def _refresh(s: Server, params: dict[str, str] = REFRESH_REQUEST, *, now: float = NOW) -> dict[str, object]:
    return await refresh_token.handle(s.request(params, now=now), s.ctx)


async def _access(s: Server, token: object) -> float | None:
    """When the access token issued as `token` was revoked (None: live)."""
    found = await s.stores.tokens.find_access(secrets.digest(str(token)))
    assert found is not None
    return found.revoked_at


async def _refresh_row(s: Server, token: object) -> RefreshToken:
    found = await s.stores.tokens.find_refresh(secrets.digest(str(token)))
    assert found is not None
    return found


# --- Rotation ------------------------------------------------------------------------------------


async def test_section_6_request_rotates_both_tokens_and_revokes_the_previous_access_token() -> None:
    s = server()
    await s.add_refresh_token()
    body = await _refresh(s)
    assert body["token_type"] == "bearer" and body["scope"] == "read"
    assert str(body["refresh_token"]).startswith("tsr_") and body["refresh_token"] != REFRESH_REQUEST["refresh_token"]
    assert await _access(s, body["access_token"]) is None
    successor = await _refresh_row(s, body["refresh_token"])
    assert successor.family == FAMILY and successor.used_at is None
    presented = await s.stores.tokens.find_refresh(PRESENTED)
    assert presented is not None and presented.used_at == NOW
    previous = await s.stores.tokens.find_access(sha256(ACCESS_TOKEN))
    assert previous is not None and previous.revoked_at == NOW


async def test_the_successor_refresh_token_works_in_turn() -> None:
    s = server()
    await s.add_refresh_token()
    first = await _refresh(s)
    second = await _refresh(s, {**REFRESH_REQUEST, "refresh_token": str(first["refresh_token"])}, now=NOW + 60)
    assert await _access(s, first["access_token"]) == NOW + 60
    assert await _access(s, second["access_token"]) is None


# --- Scope ---------------------------------------------------------------------------------------


async def test_a_refresh_may_narrow_the_scope_and_a_later_one_widen_back_to_the_grant() -> None:
    """Section 6: scope "MUST NOT include any scope not originally granted"; omitted, it "is
    treated as equal to the scope originally granted"."""
    s = server()
    await s.add_refresh_token(scopes=("read", "write"))
    narrow = await _refresh(s, REFRESH_REQUEST | {"scope": "read"})
    assert narrow["scope"] == "read"
    assert (await _refresh_row(s, narrow["refresh_token"])).scopes == ("read", "write")
    again = await _refresh(s, {**REFRESH_REQUEST, "refresh_token": str(narrow["refresh_token"])}, now=NOW + 1)
    assert again["scope"] == "read write"


async def test_a_scope_beyond_the_original_grant_is_invalid_scope_and_uses_nothing() -> None:
    s = server()
    await s.add_refresh_token(scopes=("read",))
    with pytest.raises(InvalidScope, match="goes beyond the original grant"):
        await _refresh(s, REFRESH_REQUEST | {"scope": "read write"})
    presented = await s.stores.tokens.find_refresh(PRESENTED)
    assert presented is not None and presented.used_at is None


# --- Reuse: the grace window and theft -----------------------------------------------------------


async def test_reuse_within_the_grace_window_inclusive_is_refused_without_revoking() -> None:
    s = server(grace=10)
    await s.add_refresh_token()
    winner = await _refresh(s)
    for later in (NOW, NOW + 10):
        with pytest.raises(InvalidGrant, match=JUST_USED):
            await _refresh(s, now=later)
    assert await _access(s, winner["access_token"]) is None
    assert (await _refresh_row(s, winner["refresh_token"])).revoked_at is None


async def test_reuse_after_the_grace_window_is_theft_and_revokes_the_family() -> None:
    """RFC 9700 section 4.14.2: the server "cannot determine which party submitted the invalid
    refresh token"; it revokes the family, and the description says so."""
    s = server(grace=10)
    await s.add_refresh_token()
    winner = await _refresh(s)
    with pytest.raises(InvalidGrant, match=THEFT) as stolen:
        await _refresh(s, now=NOW + 11)
    assert "11 seconds ago" in stolen.value.description
    assert await _access(s, winner["access_token"]) == NOW + 11
    assert (await _refresh_row(s, winner["refresh_token"])).revoked_at == NOW + 11


async def test_the_grace_window_is_the_configured_one() -> None:
    s = server(grace=0)
    await s.add_refresh_token()
    await _refresh(s)
    with pytest.raises(InvalidGrant, match="within the 0-second grace window"):
        await _refresh(s, now=NOW)
    with pytest.raises(InvalidGrant, match=THEFT):
        await _refresh(s, now=NOW + 1)


async def test_a_used_token_presented_after_its_expiry_is_still_theft() -> None:
    """Expiry is not checked for a used token, so a late replay still revokes the family."""
    s = server()
    await s.add_refresh_token(expires_at=NOW + 100)
    winner = await _refresh(s)
    with pytest.raises(InvalidGrant, match=THEFT):
        await _refresh(s, now=NOW + 1_000)
    assert await _access(s, winner["access_token"]) == NOW + 1_000


class _FindsThenYields(MemoryTokenStore):
    """Lets another request run between finding the refresh token and rotating it."""

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        found = await super().find_refresh(digest)
        await asyncio.sleep(0)
        return found


async def test_of_concurrent_uses_exactly_one_succeeds_and_nothing_is_revoked() -> None:
    s = server()
    slow = _FindsThenYields()
    s.stores.tokens = slow
    s.ctx = dataclasses.replace(s.ctx, tokens=slow)
    await s.add_refresh_token()
    results = await asyncio.gather(*(_refresh(s) for _ in range(3)), return_exceptions=True)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, InvalidGrant)]
    assert len(winners) == 1 and len(losers) == 2
    assert all("0 seconds ago, within the 10-second grace window" in e.description for e in losers)
    assert await _access(s, winners[0]["access_token"]) is None


class _RevokedAfterFinding(MemoryTokenStore):
    """A revocation of the family commits between finding the refresh token and rotating it."""

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        found = await super().find_refresh(digest)
        await self.revoke_family(FAMILY, NOW)
        return found


async def test_a_token_revoked_between_reading_and_rotating_is_refused_and_mints_nothing() -> None:
    """RFC 7009 section 2.1: after its family's revocation a refresh token must not mint a
    new pair, even when the revocation lands while the grant is running (TokenStore.rotate:
    RevokedMeanwhile)."""
    s = server()
    racing = _RevokedAfterFinding()
    s.stores.tokens = racing
    s.ctx = dataclasses.replace(s.ctx, tokens=racing)
    await s.add_refresh_token()
    with pytest.raises(InvalidGrant, match="was revoked"):
        await _refresh(s)
    presented = await racing.find_refresh(PRESENTED)
    assert presented is not None and presented.used_at is None
    assert [t for t in racing._refresh.values() if t.revoked_at is None] == []


# --- The token's other checks --------------------------------------------------------------------


async def test_a_revoked_or_expired_refresh_token_is_invalid_grant() -> None:
    s = server()
    await s.add_refresh_token()
    await s.stores.tokens.revoke_family(FAMILY, NOW - 1)
    with pytest.raises(InvalidGrant, match="was revoked"):
        await _refresh(s)
    s = server()
    await s.add_refresh_token(expires_at=NOW)
    with pytest.raises(InvalidGrant, match="expired 0 seconds ago"):
        await _refresh(s)


async def test_a_refresh_token_of_another_client_is_refused_and_not_used() -> None:
    s = server()
    await s.add_refresh_token(client_id=s.client.id + 1)
    with pytest.raises(InvalidGrant, match="issued to another client"):
        await _refresh(s)
    presented = await s.stores.tokens.find_refresh(PRESENTED)
    assert presented is not None and presented.used_at is None


async def test_an_unknown_refresh_token_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant, match="not valid here"):
        await _refresh(server())


async def test_a_client_without_the_refresh_grant_refreshes_only_offline_access_tokens() -> None:
    s = server(grant_types=frozenset({"authorization_code"}))
    await s.add_refresh_token(scopes=("read",))
    with pytest.raises(UnauthorizedClient, match="not allowed the refresh_token grant"):
        await _refresh(s)
    s = server(grant_types=frozenset({"authorization_code"}), allowed_scopes=OFFLINE)
    await s.add_refresh_token(scopes=("read", "offline_access"))
    assert "refresh_token" in await _refresh(s)
