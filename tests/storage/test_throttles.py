"""Throttle counters (storage/throttles.py; INTERFACE.md section 9: "kept in the database,
so they hold across nodes"), on SQLite and PostgreSQL: check and count are one statement,
so concurrent attempts cannot all pass before the counter moves."""

from __future__ import annotations

import asyncio

import pytest

from tessera.backoff import Rule
from tessera.storage.stores import Stores
from tests.support import Clock, World

pytestmark = pytest.mark.anyio

RULE = Rule("sign_in_email", limit=5, window=900, first_wait=60)


def _key(world: World, name: str) -> str:
    return f"{world.account.id}:{name}"


async def test_concurrent_attempts_let_exactly_the_limit_through(stores: Stores, world: World, clock: Clock) -> None:
    now, key = clock(), _key(world, "race@example.com")
    met = await asyncio.gather(*(stores.throttles.attempt([(RULE, key)], now) for _ in range(50)))
    admitted = sorted(m[-1].failures for m in met if m[-1].admitted)
    assert admitted == [1, 2, 3, 4, 5]  # each saw the count the one before it left
    refused = [m[-1] for m in met if not m[-1].admitted]
    assert len(refused) == 45
    assert all(55 <= r.retry_after <= 60 for r in refused)


async def test_waits_double_past_the_limit_and_the_window_starts_afresh(
    stores: Stores, world: World, clock: Clock
) -> None:
    now, key = clock(), _key(world, "slow@example.com")
    for i in range(RULE.limit):
        [counted] = await stores.throttles.attempt([(RULE, key)], now + i)
        assert counted.admitted and counted.failures == i + 1
    last = now + RULE.limit - 1
    [refused] = await stores.throttles.attempt([(RULE, key)], last + 59)
    assert not refused.admitted and refused.retry_after == 1
    [sixth] = await stores.throttles.attempt([(RULE, key)], last + 60)
    assert sixth.admitted and sixth.failures == RULE.limit + 1 and sixth.retry_after == 120
    [refused] = await stores.throttles.attempt([(RULE, key)], last + 60 + 119)
    assert not refused.admitted
    # A whole window after the last counted failure, counting starts again from one.
    [fresh] = await stores.throttles.attempt([(RULE, key)], last + 60 + RULE.window)
    assert fresh.admitted and fresh.failures == 1 and fresh.retry_after == 0


async def test_keys_and_kinds_are_counted_apart(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    other_kind = Rule("sign_in_address", limit=5, window=900, first_wait=60)
    for _ in range(RULE.limit):
        await stores.throttles.attempt([(RULE, _key(world, "a@example.com"))], now)
    [a] = await stores.throttles.attempt([(RULE, _key(world, "a@example.com"))], now)
    [b] = await stores.throttles.attempt([(RULE, _key(world, "b@example.com"))], now)
    [c] = await stores.throttles.attempt([(other_kind, _key(world, "a@example.com"))], now)
    assert (a.admitted, b.admitted, c.admitted) == (False, True, True)


async def test_counting_stops_at_the_first_refusal(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    address = Rule("sign_in_address", limit=1, window=900, first_wait=60)
    counts = [(address, _key(world, "10.0.0.1")), (RULE, _key(world, "stop@example.com"))]
    first = await stores.throttles.attempt(counts, now)
    assert [c.admitted for c in first] == [True, True]
    second = await stores.throttles.attempt(counts, now + 1)
    assert [c.admitted for c in second] == [False]  # the email's counter did not move
    [email] = await stores.throttles.attempt([(RULE, _key(world, "stop@example.com"))], now + 2)
    assert email.failures == 2


async def test_success_clears_and_refunds(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    email, address = _key(world, "ok@example.com"), _key(world, "10.0.0.2")
    address_rule = Rule("sign_in_address", limit=2, window=900, first_wait=60)
    for _ in range(2):
        await stores.throttles.attempt([(address_rule, address), (RULE, email)], now)
    assert await stores.throttles.blocked_for("sign_in_address", address, now) == 60
    await stores.throttles.succeeded([(RULE.kind, email)], [(address_rule, address)])
    # The address got its attempt back (below the limit: no wait); the email starts afresh.
    assert await stores.throttles.blocked_for("sign_in_address", address, now) is None
    [again] = await stores.throttles.attempt([(RULE, email)], now)
    assert again.failures == 1
