"""The storage contract of tessera/protocol/ports.py, on SQLite, PostgreSQL and in memory.

Each test states one promise a port's docstring makes and uses nothing but the port
methods, so the SQL stores and tessera/storage/memory/ are held to the same words. The
atomic ones (single-use codes, rotation) are also raced with concurrent calls.
"""

from __future__ import annotations

import asyncio

import pytest

from tessera.protocol import secrets
from tessera.protocol.ports import (
    AlreadyUsed,
    NewAccessToken,
    NewRefreshToken,
    Rotated,
    SignInRefused,
    TokenRows,
)
from tests.storage.port_world import LOGIN_LIMIT, LOGIN_WINDOW, ON_EVERY_STORE, PortWorld
from tests.support import Clock, new_code

pytestmark = [pytest.mark.anyio, ON_EVERY_STORE]


def _rows(
    w: PortWorld, now: float, *, family: str, refresh: bool = True, refresh_scopes: tuple[str, ...] | None = None
) -> TokenRows:
    token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    access = NewAccessToken(
        digest=secrets.digest(token),
        token_prefix=token[:10],
        account_id=w.account_id,
        client_id=w.client.id,
        user_id=w.user.id,
        scopes=("read",),
        family=family,
        created_at=now,
        expires_at=now + 1800,
    )
    new_refresh = NewRefreshToken(secrets.digest(secrets.new_secret("tsr_")), now + 86400, refresh_scopes)
    return TokenRows(access=access, refresh=new_refresh if refresh else None)


async def _code(w: PortWorld, now: float) -> tuple[int, bytes, str]:
    family = secrets.new_family()
    code = new_code(w.account_id, w.client.id, w.user.id, now, now + 300, family=family, nonce="n-0S6_WzA2Mj")
    return await w.codes.create(code), code.digest, family


# --- CodeStore ---------------------------------------------------------------------------------


async def test_a_code_is_redeemed_once_even_under_concurrency(port_world: PortWorld, clock: Clock) -> None:
    """RFC 6749 section 4.1.2 (single use); CodeStore.redeem: exactly one of concurrent calls wins."""
    w, now = port_world, clock()
    code_id, _, family = await _code(w, now)
    attempts = [_rows(w, now, family=family) for _ in range(8)]
    outcomes = await asyncio.gather(*(w.codes.redeem(code_id, now, rows) for rows in attempts))
    winners = [i for i, o in enumerate(outcomes) if not o.reused]
    assert len(winners) == 1
    # The losers wrote nothing, and the winner's token stands (revoking on replay is the grant's).
    for i, rows in enumerate(attempts):
        found = await w.tokens.find_access(rows.access.digest)
        if i == winners[0]:
            assert found is not None and found.id == outcomes[i].access_token_id and found.revoked_at is None
        else:
            assert found is None


async def test_a_second_redemption_writes_nothing_and_the_code_is_still_found(
    port_world: PortWorld, clock: Clock
) -> None:
    w, now = port_world, clock()
    code_id, digest, family = await _code(w, now)
    unused = await w.codes.find(digest)
    assert unused is not None and unused.id == code_id and unused.used_at is None and unused.nonce == "n-0S6_WzA2Mj"
    assert not (await w.codes.redeem(code_id, now, _rows(w, now, family=family))).reused
    late = _rows(w, now + 5, family=family)
    assert (await w.codes.redeem(code_id, now + 5, late)).reused
    assert await w.tokens.find_access(late.access.digest) is None
    used = await w.codes.find(digest)  # "the code with this digest, used or not"
    assert used is not None and used.used_at == now and used.family == family


# --- TokenStore --------------------------------------------------------------------------------


async def test_issue_writes_access_and_refresh_tokens_findable_by_digest(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    rows = _rows(w, now, family="f" * 32)
    access_id = await w.tokens.issue(rows)
    access = await w.tokens.find_access(rows.access.digest)
    assert access is not None and access.id == access_id and access.scopes == ("read",)
    assert access.expires_at == now + 1800 and access.revoked_at is None and access.used_at is None
    assert rows.refresh is not None
    refresh = await w.tokens.find_refresh(rows.refresh.digest)
    assert refresh is not None and refresh.access_token_id == access_id and refresh.family == "f" * 32
    assert refresh.scopes == ("read",)  # NewRefreshToken.scopes None: the access token's
    assert await w.tokens.find_refresh(rows.access.digest) is None  # an access token is not a refresh token


async def test_a_refresh_token_keeps_the_wider_scopes_it_was_given(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    rows = _rows(w, now, family=secrets.new_family(), refresh_scopes=("read", "write"))
    await w.tokens.issue(rows)
    assert rows.refresh is not None
    refresh = await w.tokens.find_refresh(rows.refresh.digest)
    assert refresh is not None and refresh.scopes == ("read", "write")


async def test_revoke_family_revokes_access_and_refresh_tokens(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    family = secrets.new_family()
    rows = [_rows(w, now, family=family) for _ in range(3)]
    for r in rows:
        await w.tokens.issue(r)
    bystander = _rows(w, now, family=secrets.new_family())
    await w.tokens.issue(bystander)
    await w.tokens.revoke_family(family, now + 1)
    for r in rows:
        assert (await w.tokens.find_access(r.access.digest)).revoked_at == now + 1  # type: ignore[union-attr]
        assert r.refresh is not None
        assert (await w.tokens.find_refresh(r.refresh.digest)).revoked_at == now + 1  # type: ignore[union-attr]
    assert (await w.tokens.find_access(bystander.access.digest)).revoked_at is None  # type: ignore[union-attr]
    # A second revocation keeps the first time.
    await w.tokens.revoke_family(family, now + 2)
    assert (await w.tokens.find_access(rows[0].access.digest)).revoked_at == now + 1  # type: ignore[union-attr]


async def test_revoke_access_leaves_its_refresh_token_usable(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    rows = _rows(w, now, family=secrets.new_family())
    access_id = await w.tokens.issue(rows)
    await w.tokens.revoke_access(access_id, now + 1)
    assert (await w.tokens.find_access(rows.access.digest)).revoked_at == now + 1  # type: ignore[union-attr]
    assert rows.refresh is not None
    assert (await w.tokens.find_refresh(rows.refresh.digest)).revoked_at is None  # type: ignore[union-attr]


async def test_touch_records_when_an_access_token_was_used(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    rows = _rows(w, now, family=secrets.new_family())
    access_id = await w.tokens.issue(rows)
    await w.tokens.touch(access_id, now + 7)
    assert (await w.tokens.find_access(rows.access.digest)).used_at == now + 7  # type: ignore[union-attr]


async def test_rotation_claims_once_under_concurrency(port_world: PortWorld, clock: Clock) -> None:
    """TokenStore.rotate: of concurrent uses exactly one claims; the others write nothing and
    are told when the token was used and its family."""
    w, now = port_world, clock()
    family = secrets.new_family()
    first = _rows(w, now, family=family)
    await w.tokens.issue(first)
    assert first.refresh is not None
    refresh = await w.tokens.find_refresh(first.refresh.digest)
    assert refresh is not None
    attempts = [_rows(w, now, family=family) for _ in range(6)]
    results = await asyncio.gather(*(w.tokens.rotate(refresh.id, now, rows) for rows in attempts))
    winners = [i for i, r in enumerate(results) if isinstance(r, Rotated)]
    assert len(winners) == 1
    assert [r for r in results if not isinstance(r, Rotated)] == [AlreadyUsed(used_at=now, family=family)] * 5
    for i, rows in enumerate(attempts):
        found = await w.tokens.find_access(rows.access.digest)
        assert (found is not None) == (i == winners[0])
    # The claim marked the refresh token used and revoked the access token it came with.
    assert (await w.tokens.find_refresh(first.refresh.digest)).used_at == now  # type: ignore[union-attr]
    assert (await w.tokens.find_access(first.access.digest)).revoked_at == now  # type: ignore[union-attr]


async def test_a_used_refresh_token_is_reported_and_nothing_is_revoked(port_world: PortWorld, clock: Clock) -> None:
    """The store only reports a reuse, however late; deciding it is theft is the grant's."""
    w, now = port_world, clock()
    family = secrets.new_family()
    first = _rows(w, now, family=family)
    await w.tokens.issue(first)
    assert first.refresh is not None
    refresh = await w.tokens.find_refresh(first.refresh.digest)
    assert refresh is not None
    successor = _rows(w, now, family=family)
    assert isinstance(await w.tokens.rotate(refresh.id, now, successor), Rotated)
    late = _rows(w, now + 3600, family=family)
    assert await w.tokens.rotate(refresh.id, now + 3600, late) == AlreadyUsed(used_at=now, family=family)
    assert await w.tokens.find_access(late.access.digest) is None
    assert (await w.tokens.find_access(successor.access.digest)).revoked_at is None  # type: ignore[union-attr]


# --- ClientStore, UserStore, ConsentStore --------------------------------------------------------


async def test_client_lookup_prefers_own_then_global_and_is_account_scoped(port_world: PortWorld) -> None:
    w = port_world
    suffix = secrets.new_family()[-8:]
    global_client = await w.add_client(True, f"g-{suffix}")
    assert (await w.clients.find(w.account_id, global_client.identifier)).id == global_client.id  # type: ignore[union-attr]
    assert (await w.clients.find_by_numeric_id(w.account_id, global_client.id)) is not None
    own = await w.add_client(False, f"own-{suffix}")
    assert (await w.clients.find(w.account_id, own.identifier)).id == own.id  # type: ignore[union-attr]
    # Another account does not see it, by identifier nor by numeric id.
    assert await w.clients.find(w.account_id + 100000, own.identifier) is None
    assert await w.clients.find_by_numeric_id(w.account_id + 100000, own.id) is None
    assert await w.clients.find(w.account_id, f"nobody-{suffix}") is None


async def test_a_registered_redirect_uri_is_found_for_the_account_only(port_world: PortWorld) -> None:
    """RP-initiated logout's return_to / post_logout_redirect_uri must be a registered redirect
    URI of a client usable on the account (INTERFACE.md section 4, /access/logout)."""
    w = port_world
    await w.add_client(True, f"g-{secrets.new_family()[-8:]}")  # registers https://g.example.com/cb
    assert await w.clients.redirect_uri_registered(w.account_id, "https://app.example.com/callback")
    assert await w.clients.redirect_uri_registered(w.account_id, "https://g.example.com/cb")
    assert not await w.clients.redirect_uri_registered(w.account_id, "https://app.example.com/other")
    assert not await w.clients.redirect_uri_registered(w.account_id + 100000, "https://app.example.com/callback")


async def test_users_are_found_within_their_account_and_by_email_ignoring_case(port_world: PortWorld) -> None:
    w = port_world
    assert (await w.users.get(w.account_id, w.user.id)) == w.user
    assert await w.users.get(w.account_id + 100000, w.user.id) is None
    found = await w.users.find_by_email(w.account_id, " User@EXAMPLE.com ")
    assert found is not None and found.id == w.user.id
    assert await w.users.find_by_email(w.account_id + 100000, "user@example.com") is None


async def test_consents_remember_the_union_of_scopes(port_world: PortWorld, clock: Clock) -> None:
    w, now = port_world, clock()
    assert await w.consents.find(w.user.id, w.client.id) is None
    first = await w.consents.remember(w.account_id, w.user.id, w.client.id, ("read",), now)
    consent = await w.consents.remember(w.account_id, w.user.id, w.client.id, ("tickets:write", "read"), now + 1)
    assert consent.scopes == ("read", "tickets:write")
    assert consent.id == first.id and consent.created_at == now and consent.updated_at == now + 1
    assert await w.consents.find(w.user.id, w.client.id) == consent


# --- Authenticator -------------------------------------------------------------------------------


async def test_sign_in_is_refused_over_the_failure_limit_until_the_window_ends(
    port_world: PortWorld, clock: Clock
) -> None:
    """Authenticator: failures count per account and email; over the limit even the right
    password is refused until the window ends."""
    w, now = port_world, clock()
    assert (await w.authenticator.authenticate(w.account_id, "USER@example.com", w.password, now)).id == w.user.id
    for i in range(LOGIN_LIMIT):
        with pytest.raises(SignInRefused) as wrong:
            await w.authenticator.authenticate(w.account_id, w.user.email, "wrong", now + i)
        assert wrong.value.retry_after is None
    with pytest.raises(SignInRefused) as throttled:
        await w.authenticator.authenticate(w.account_id, w.user.email, w.password, now + LOGIN_LIMIT)
    assert throttled.value.retry_after is not None and 0 < throttled.value.retry_after <= LOGIN_WINDOW
    # Another email is not held back, and the window's end lets the right password in.
    assert (await w.authenticator.authenticate(w.account_id, w.admin.email, w.password, now)).id == w.admin.id
    back = await w.authenticator.authenticate(w.account_id, w.user.email, w.password, now + LOGIN_WINDOW + LOGIN_LIMIT)
    assert back.id == w.user.id
