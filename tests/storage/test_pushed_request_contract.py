"""The PushedRequestStore port (tessera/protocol/ports.py) on SQLite, PostgreSQL and in
memory: a pushed authorization request's request_uri (RFC 9126) is claimed once (section
7.3), only by the client that pushed it, only before it expires (section 2.2); the flow it
starts resumes with its flow secret alone and completes once."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import pytest

from tests.storage.port_world import ON_EVERY_STORE, PortWorld
from tests.support import Clock

pytestmark = [pytest.mark.anyio, ON_EVERY_STORE]

PARAMS = '{"response_type": "code", "client_id": "web"}'


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


async def pushed(port_world: PortWorld, now: float) -> bytes:
    uri = digest("urn:ietf:params:oauth:request_uri:" + secrets.token_urlsafe(32))
    await port_world.pushed_requests.push(port_world.account_id, port_world.client.id, uri, PARAMS, now, now + 60)
    return uri


async def test_claimed_once_then_resumed_with_the_flow_secret_and_completed_once(
    port_world: PortWorld, clock: Clock
) -> None:
    store, account, client = port_world.pushed_requests, port_world.account_id, port_world.client.id
    now = clock()
    uri = await pushed(port_world, now)
    flow = digest("flow-1")
    assert await store.claim(account, client, uri, flow, now + 1, now + 1800) == PARAMS
    assert await store.claim(account, client, uri, digest("flow-2"), now + 2, now + 1800) is None
    # The claimed flow lives past the push's 60 seconds, for sign-in and consent.
    assert await store.resume(account, client, uri, flow, now + 600) == PARAMS
    assert await store.resume(account, client, uri, digest("flow-2"), now + 600) is None
    assert await store.complete(account, uri, flow, now + 601) is True
    assert await store.complete(account, uri, flow, now + 602) is False
    assert await store.resume(account, client, uri, flow, now + 603) is None
    found = await store.find(account, uri)
    assert found is not None
    assert found.used_at == now + 1 and found.completed_at == now + 601


async def test_expired_requests_cannot_be_claimed(port_world: PortWorld, clock: Clock) -> None:
    store, account, client = port_world.pushed_requests, port_world.account_id, port_world.client.id
    now = clock()
    uri = await pushed(port_world, now)
    assert await store.claim(account, client, uri, digest("f"), now + 60, now + 1800) is None
    found = await store.find(account, uri)
    assert found is not None and found.used_at is None


async def test_only_the_pushing_client_and_account_may_claim(port_world: PortWorld, clock: Clock) -> None:
    store, account, client = port_world.pushed_requests, port_world.account_id, port_world.client.id
    now = clock()
    uri = await pushed(port_world, now)
    other = await port_world.add_client(False, f"other-{secrets.token_hex(4)}")
    assert await store.claim(account, other.id, uri, digest("f"), now, now + 1800) is None
    assert await store.claim(account + 1000, client, uri, digest("f"), now, now + 1800) is None
    assert await store.find(account + 1000, uri) is None
    assert await store.claim(account, client, uri, digest("f"), now, now + 1800) == PARAMS


async def test_of_concurrent_claims_exactly_one_wins(port_world: PortWorld, clock: Clock) -> None:
    store, account, client = port_world.pushed_requests, port_world.account_id, port_world.client.id
    now = clock()
    uri = await pushed(port_world, now)
    answers = await asyncio.gather(
        *(store.claim(account, client, uri, digest(f"flow-{i}"), now, now + 1800) for i in range(20))
    )
    assert sum(answer is not None for answer in answers) == 1


async def test_unknown_request_uris_are_not_found(port_world: PortWorld, clock: Clock) -> None:
    store = port_world.pushed_requests
    assert await store.find(port_world.account_id, digest("nothing")) is None
    assert (
        await store.claim(port_world.account_id, port_world.client.id, digest("x"), digest("f"), clock(), 1e12) is None
    )
