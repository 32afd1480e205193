"""The DeviceCodeStore contract of tessera/protocol/ports.py (RFC 8628), on SQLite,
PostgreSQL and in memory: user codes unique, a decision taken once, the polling rate
decided by the store (section 3.5's slow_down), a device code redeemed once, also when
the calls race.
"""

from __future__ import annotations

import asyncio

import pytest

from tessera.model import DEVICE_ALLOWED, DEVICE_DENIED, DEVICE_PENDING
from tessera.protocol import secrets
from tessera.protocol.ports import NewAccessToken, NewDeviceCode, TokenRows
from tests.storage.port_world import ON_EVERY_STORE, PortWorld
from tests.support import Clock

pytestmark = [pytest.mark.anyio, ON_EVERY_STORE]


def _new(w: PortWorld, now: float, user_code: str | None = None) -> NewDeviceCode:
    return NewDeviceCode(
        digest=secrets.digest(secrets.new_secret(secrets.DEVICE_CODE_PREFIX)),
        user_code=user_code or secrets.new_user_code(),
        account_id=w.account_id,
        client_id=w.client.id,
        scopes=("read", "openid"),
        created_at=now,
        expires_at=now + 600,
        interval=5,
    )


def _rows(w: PortWorld, now: float) -> TokenRows:
    token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    return TokenRows(
        access=NewAccessToken(
            digest=secrets.digest(token),
            token_prefix=token[:10],
            account_id=w.account_id,
            client_id=w.client.id,
            user_id=w.user.id,
            scopes=("read",),
            family=secrets.new_family(),
            created_at=now,
            expires_at=now + 1800,
        ),
        refresh=None,
    )


async def test_a_device_code_is_found_by_digest_and_its_user_code_while_pending(
    port_world: PortWorld, clock: Clock
) -> None:
    """RFC 8628 section 3.2-3.3: the device finds it by device code, the user by user code."""
    w, now = port_world, clock()
    new = _new(w, now)
    code_id = await w.device_codes.create(new)
    assert code_id is not None
    found = await w.device_codes.find(new.digest)
    assert found is not None and found.id == code_id
    assert (found.status, found.scopes, found.interval, found.user_id, found.used_at) == (
        DEVICE_PENDING, ("read", "openid"), 5, None, None,
    )  # fmt: skip
    pending = await w.device_codes.find_pending(w.account_id, new.user_code, now)
    assert pending is not None and pending.id == code_id
    assert await w.device_codes.find_pending(w.account_id + 1000, new.user_code, now) is None  # another account
    assert await w.device_codes.find_pending(w.account_id, new.user_code, now + 600) is None  # expired


async def test_a_taken_user_code_is_refused_without_writing(port_world: PortWorld, clock: Clock) -> None:
    """DeviceCodeStore.create: None when the user code is taken, so the caller draws again."""
    w, now = port_world, clock()
    first = _new(w, now)
    assert await w.device_codes.create(first) is not None
    clash = _new(w, now, user_code=first.user_code)
    assert await w.device_codes.create(clash) is None
    assert await w.device_codes.find(clash.digest) is None


async def test_a_decision_is_taken_once_even_under_concurrency(port_world: PortWorld, clock: Clock) -> None:
    """RFC 8628 section 3.3: one decision per authorization; then the user code is spent."""
    w, now = port_world, clock()
    new = _new(w, now)
    code_id = await w.device_codes.create(new)
    assert code_id is not None
    outcomes = await asyncio.gather(
        *(w.device_codes.decide(code_id, w.user.id, now - 30, i % 2 == 0, now) for i in range(6))
    )
    assert outcomes.count(True) == 1
    found = await w.device_codes.find(new.digest)
    assert found is not None and found.status in (DEVICE_ALLOWED, DEVICE_DENIED)
    assert (found.user_id, found.auth_time) == (w.user.id, now - 30)
    assert await w.device_codes.find_pending(w.account_id, new.user_code, now) is None


async def test_an_expired_authorization_cannot_be_decided(port_world: PortWorld, clock: Clock) -> None:
    """RFC 8628 section 3.2 expires_in: past it the user code no longer works."""
    w, now = port_world, clock()
    code_id = await w.device_codes.create(_new(w, now))
    assert code_id is not None
    assert not await w.device_codes.decide(code_id, w.user.id, now, True, now + 600)


async def test_polling_sooner_than_the_interval_is_slow_down_and_adds_five_seconds(
    port_world: PortWorld, clock: Clock
) -> None:
    """RFC 8628 section 3.5: slow_down, "the interval MUST be increased by 5 seconds for this
    and all subsequent requests"."""
    w, now = port_world, clock()
    code_id = await w.device_codes.create(_new(w, now))
    assert code_id is not None
    first = await w.device_codes.poll(code_id, now)
    assert (first.status, first.slow_down, first.interval) == (DEVICE_PENDING, False, 5)
    assert (await w.device_codes.poll(code_id, now + 4.9)).slow_down  # 5 -> 10
    on_old_interval = await w.device_codes.poll(code_id, now + 4.9 + 5)
    assert (on_old_interval.slow_down, on_old_interval.interval) == (True, 15)
    on_time = await w.device_codes.poll(code_id, now + 4.9 + 5 + 15)
    assert (on_time.slow_down, on_time.interval) == (False, 15)


async def test_of_concurrent_polls_only_one_is_on_time(port_world: PortWorld, clock: Clock) -> None:
    """RFC 8628 section 3.5, decided by the store: two polls at one moment are not both on time."""
    w, now = port_world, clock()
    code_id = await w.device_codes.create(_new(w, now))
    assert code_id is not None
    polls = await asyncio.gather(*(w.device_codes.poll(code_id, now) for _ in range(6)))
    assert [p.slow_down for p in polls].count(False) == 1
    assert max(p.interval for p in polls) == 5 + 5 * 5


async def test_a_poll_reports_the_decision_and_who_took_it(port_world: PortWorld, clock: Clock) -> None:
    """RFC 8628 section 3.5: the poll after the user decided sees it, never slow_down."""
    w, now = port_world, clock()
    code_id = await w.device_codes.create(_new(w, now))
    assert code_id is not None
    await w.device_codes.poll(code_id, now)
    assert await w.device_codes.decide(code_id, w.user.id, now - 60, True, now)
    polled = await w.device_codes.poll(code_id, now + 1)
    assert (polled.status, polled.slow_down, polled.user_id, polled.auth_time) == (
        DEVICE_ALLOWED, False, w.user.id, now - 60,
    )  # fmt: skip


async def test_an_allowed_device_code_is_redeemed_once_even_under_concurrency(
    port_world: PortWorld, clock: Clock
) -> None:
    """INTERFACE.md section 7: "A device code is redeemed at most once"."""
    w, now = port_world, clock()
    new = _new(w, now)
    code_id = await w.device_codes.create(new)
    assert code_id is not None
    assert (await w.device_codes.redeem(code_id, now, _rows(w, now))).reused  # not allowed yet
    assert await w.device_codes.decide(code_id, w.user.id, now, True, now)
    attempts = [_rows(w, now) for _ in range(8)]
    outcomes = await asyncio.gather(*(w.device_codes.redeem(code_id, now, rows) for rows in attempts))
    winners = [i for i, o in enumerate(outcomes) if not o.reused]
    assert len(winners) == 1
    for i, rows in enumerate(attempts):
        found = await w.tokens.find_access(rows.access.digest)
        assert (found is not None) == (i in winners)
    used = await w.device_codes.find(new.digest)
    assert used is not None and used.used_at == now


async def test_a_denied_device_code_is_never_redeemed(port_world: PortWorld, clock: Clock) -> None:
    """RFC 8628 section 3.5: access_denied; no tokens."""
    w, now = port_world, clock()
    code_id = await w.device_codes.create(_new(w, now))
    assert code_id is not None
    assert await w.device_codes.decide(code_id, w.user.id, now, False, now)
    assert (await w.device_codes.redeem(code_id, now, _rows(w, now))).reused
