"""Password-reset tokens (tessera/storage/password_resets.py) on SQLite and PostgreSQL:
usable until spent or expired, only the newest of a user's works, of concurrent uses exactly
one sets the password, a use ends the user's sessions, and the purge takes dead ones.
Dated around T0, long before any other test's rows, as tests/storage/test_purge.py does."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

import pytest

from tessera.model import AuditEntry, User
from tessera.storage import purge
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import World

pytestmark = pytest.mark.anyio

T0 = 1_400_000_000.0
LIFETIME = 1800


def _digest() -> bytes:
    return hashlib.sha256(secrets.token_bytes(32)).digest()


def _nothing(_: User | None) -> list[AuditEntry]:
    return []


async def _new(stores: Stores, world: World, now: float = T0) -> bytes:
    digest = _digest()
    await stores.password_resets.create(world.account.id, world.user.id, digest, now, now + LIFETIME)
    return digest


async def test_a_token_is_usable_until_it_expires(stores: Stores, world: World) -> None:
    digest = await _new(stores, world)
    found = await stores.password_resets.find_usable(world.account.id, digest, T0 + LIFETIME - 1)
    assert found is not None and found.user_id == world.user.id
    assert await stores.password_resets.find_usable(world.account.id, digest, T0 + LIFETIME) is None
    assert await stores.password_resets.complete(world.account.id, digest, "hash", T0 + LIFETIME, _nothing) is None


async def test_a_token_belongs_to_its_account(stores: Stores, world: World) -> None:
    digest = await _new(stores, world)
    assert await stores.password_resets.find_usable(world.account.id + 10_000, digest, T0) is None


async def test_a_new_token_spends_the_older_ones(stores: Stores, world: World) -> None:
    older = await _new(stores, world)
    newer = await _new(stores, world, T0 + 1)
    assert await stores.password_resets.find_usable(world.account.id, older, T0 + 2) is None
    assert await stores.password_resets.find_usable(world.account.id, newer, T0 + 2) is not None


async def test_of_concurrent_uses_exactly_one_sets_the_password(stores: Stores, world: World) -> None:
    digest = await _new(stores, world)
    results = await asyncio.gather(
        *(stores.password_resets.complete(world.account.id, digest, f"hash-{n}", T0 + 5, _nothing) for n in range(8))
    )
    done = [user for user in results if user is not None]
    assert len(done) == 1
    stored = await stores.users.get_fresh(world.account.id, world.user.id)
    assert stored is not None and stored.password_hash == done[0].password_hash
    assert await stores.password_resets.find_usable(world.account.id, digest, T0 + 6) is None


async def test_a_use_ends_the_users_sessions_and_records_its_entry(stores: Stores, world: World) -> None:
    now = T0 + 10
    cookie = _digest()
    await stores.sessions.start(None, cookie, world.account.id, world.user.id, now, now + 3600)
    assert await stores.sessions.find(cookie, now, now - 60) is not None
    digest = await _new(stores, world)
    entry = AuditEntry(
        account_id=world.account.id,
        actor_id=world.user.id,
        actor_name="test",
        source_id=world.user.id,
        source_type="user",
        source_label="test",
        action="reset_password",
        change_description="set a new password",
        ip_address=None,
        created_at=now,
    )
    done = await stores.password_resets.complete(world.account.id, digest, "hash", now, lambda _: [entry])
    assert done is not None
    assert await stores.sessions.find(cookie, now, now - 60) is None
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(action="reset_password"))
    assert [log.entry.change_description for log in logs] == ["set a new password"]


async def test_the_purge_takes_tokens_expired_or_spent_long_ago(stores: Stores, world: World) -> None:
    horizon = T0 - purge.RETENTION
    expired = _digest()
    await stores.password_resets.create(world.account.id, world.admin.id, expired, horizon - LIFETIME - 5, horizon - 5)
    spent = _digest()
    await stores.password_resets.create(world.account.id, world.user.id, spent, horizon - 100, horizon + LIFETIME)
    assert await stores.password_resets.complete(world.account.id, spent, "hash", horizon - 50, _nothing) is not None
    live = _digest()
    await stores.password_resets.create(world.account.id, world.user.id, live, T0, T0 + LIFETIME)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["password_resets"] == 2
    assert await stores.password_resets.find_usable(world.account.id, live, T0 + 1) is not None
