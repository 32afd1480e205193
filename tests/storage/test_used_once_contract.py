"""The UsedOnceStore port (tessera/protocol/ports.py) on SQLite, PostgreSQL and in memory:
a DPoP proof's `jti` (RFC 9449 section 11.1) or a client assertion's `jti` (RFC 7523
section 3) is accepted once among all nodes, concurrent presentations included."""

from __future__ import annotations

import asyncio

import pytest

from tests.storage.port_world import ON_EVERY_STORE, PortWorld
from tests.support import Clock

pytestmark = [pytest.mark.anyio, ON_EVERY_STORE]


async def test_a_value_is_accepted_once_until_it_expires(port_world: PortWorld, clock: Clock) -> None:
    now = clock()
    jti = f"jti-{now}"
    assert await port_world.used_once.first_use("dpop", jti, now + 60, now) is True
    assert await port_world.used_once.first_use("dpop", jti, now + 60, now + 1) is False
    assert await port_world.used_once.first_use("dpop", jti, now + 120, now + 59.9) is False
    # Past its expiry the caller's own time rules refuse it; the store may record it afresh.
    assert await port_world.used_once.first_use("dpop", jti, now + 200, now + 60) is True
    assert await port_world.used_once.first_use("dpop", jti, now + 200, now + 61) is False


async def test_kinds_are_separate(port_world: PortWorld, clock: Clock) -> None:
    now = clock()
    jti = f"shared-{now}"
    assert await port_world.used_once.first_use("dpop", jti, now + 60, now) is True
    assert await port_world.used_once.first_use("assertion", jti, now + 60, now) is True
    assert await port_world.used_once.first_use("assertion", jti, now + 60, now) is False


async def test_of_concurrent_presentations_exactly_one_is_first(port_world: PortWorld, clock: Clock) -> None:
    now = clock()
    jti = f"raced-{now}"
    answers = await asyncio.gather(*(port_world.used_once.first_use("dpop", jti, now + 60, now) for _ in range(20)))
    assert answers.count(True) == 1
