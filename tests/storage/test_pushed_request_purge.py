"""Housekeeping (tessera/storage/purge.py) of pushed authorization requests (RFC 9126), on
SQLite and PostgreSQL: a request_uri expired more than RETENTION seconds ago goes, used or
not; younger and live ones stay. Dated around T0, long before any other test's rows, as in
tests/storage/test_purge.py, so the counts are exact."""

from __future__ import annotations

import hashlib
import secrets

import pytest
import sqlalchemy as sa

from tessera.storage import purge, schema
from tessera.storage.stores import Stores
from tests.support import World

pytestmark = pytest.mark.anyio

T0 = 1_400_000_000.0
RETENTION = purge.RETENTION


async def _pushed(stores: Stores, world: World, expires_at: float) -> bytes:
    digest = hashlib.sha256(secrets.token_bytes(32)).digest()
    await stores.pushed_requests.push(world.account.id, world.web.client.id, digest, "{}", expires_at - 60, expires_at)
    return digest


async def _exists(stores: Stores, digest: bytes) -> bool:
    table = schema.pushed_requests
    query = sa.select(table.c.id).where(table.c.digest == digest)
    return await stores.db.read(lambda conn: conn.execute(query).first() is not None)


async def test_pushed_requests_expired_long_ago_go(stores: Stores, world: World) -> None:
    old = await _pushed(stores, world, T0 - RETENTION - 1)
    old_used = await _pushed(stores, world, T0 - RETENTION - 5)
    claimed = await stores.pushed_requests.claim(
        world.account.id, world.web.client.id, old_used, b"f" * 32, T0 - RETENTION - 30, T0 - RETENTION - 2
    )
    assert claimed == "{}"
    recent = await _pushed(stores, world, T0 - 60)
    live = await _pushed(stores, world, T0 + 60)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["pushed_requests"] == 2
    assert not await _exists(stores, old)
    assert not await _exists(stores, old_used)
    assert await _exists(stores, recent)
    assert await _exists(stores, live)
