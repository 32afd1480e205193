"""Changes made by another process (the CLI, another worker or node) to the rows a serving
process remembers (storage/changes.py, migration 0019): seen within changes.CHECK_EVERY,
where the memo alone held them up to cache.TTL (2 s) and the key ring up to 60 s. The
"other process" is a second Database on the same URL, as a `tessera` command is; on both
engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from tessera.audit_vocabulary import SYSTEM_ACTOR
from tessera.key_cipher import KeyCipher
from tessera.key_ring import KeyRing
from tessera.management import client_secrets
from tessera.storage import cache, changes
from tessera.storage.database import open_database
from tessera.storage.errors import StorageUnavailable
from tessera.storage.stores import Stores
from tessera.storage.users import UserChange
from tests.support import Clock, World

pytestmark = pytest.mark.anyio

# Past the watch's interval, far inside the memo's own expiry: what is seen after this
# wait was seen through the watch.
AFTER_A_LOOK = changes.CHECK_EVERY * 3
assert AFTER_A_LOOK < cache.TTL / 10

CIPHER = KeyCipher("test-secret-key-" + "x" * 32)  # the test settings' key


@pytest.fixture
async def elsewhere(database_url: str) -> AsyncIterator[Stores]:
    """The stores of another process on the same database."""
    other = open_database(database_url)
    try:
        yield Stores.over(other)
    finally:
        await other.aclose()


async def test_an_account_changed_elsewhere_is_seen_at_once(stores: Stores, elsewhere: Stores, world: World) -> None:
    assert (await stores.accounts.by_subdomain(world.subdomain)) is not None  # remembered
    await elsewhere.accounts.set_registration_policy(world.account.id, "open")
    await asyncio.sleep(AFTER_A_LOOK)
    found = await stores.accounts.by_subdomain(world.subdomain)
    assert found is not None and found.registration_policy == "open"


async def test_a_secret_rotated_elsewhere_is_seen_at_once(
    stores: Stores, elsewhere: Stores, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 6: the old secret stops at once (previous_secret_expires_in 0);
    `tessera clients rotate-secret` is another process than the server."""
    before = await stores.clients.find(world.account.id, world.machine.client_id)
    assert before is not None
    rotated, _ = await client_secrets.regenerate_secret(elsewhere, world.account, before.id, SYSTEM_ACTOR, clock())
    await asyncio.sleep(AFTER_A_LOOK)
    for found in (
        await stores.clients.find(world.account.id, world.machine.client_id),
        await stores.clients.find_by_numeric_id(world.account.id, before.id),
    ):
        assert found is not None and found.secret_hash == rotated.secret_hash != before.secret_hash


async def test_a_user_suspended_elsewhere_is_seen_at_once(
    stores: Stores, elsewhere: Stores, world: World, clock: Clock
) -> None:
    assert not (await stores.users.get(world.account.id, world.user.id)).is_suspended  # type: ignore[union-attr]
    await elsewhere.users.update(world.account.id, world.user.id, UserChange(suspended=True), clock(), lambda _: [])
    await asyncio.sleep(AFTER_A_LOOK)
    assert (await stores.users.get(world.account.id, world.user.id)).is_suspended  # type: ignore[union-attr]


async def test_a_key_rotated_elsewhere_signs_at_once(
    stores: Stores, elsewhere: Stores, world: World, clock: Clock
) -> None:
    """`tessera keys rotate` promotes the next key, published since the last rotation: the
    server signs with it, and publishes the new next key, at once."""
    here = KeyRing(stores.keys, CIPHER, clock)
    there = KeyRing(elsewhere.keys, CIPHER, clock)
    signing = await here.signing_key(world.account.id, "ES256")
    published = {key.kid for key in (await here.published(world.account.id)).keys}
    clock.advance(3600)  # a rotation is refused within a minute of the last one
    await there.rotate(world.account.id)
    await asyncio.sleep(AFTER_A_LOOK)
    now_signing = await here.signing_key(world.account.id, "ES256")
    assert now_signing.kid != signing.kid and now_signing.kid in published
    assert {key.kid for key in (await here.published(world.account.id)).keys} - published


async def test_without_a_change_nothing_is_forgotten(stores: Stores, world: World) -> None:
    """A look that finds nothing new leaves the memo as it was: the account is not read again."""
    await stores.accounts.by_subdomain(world.subdomain)
    read: list[str] = []
    real_read = stores.db.read

    async def recorded(fn, *args):  # type: ignore[no-untyped-def]
        read.append(getattr(fn, "__name__", ""))
        return await real_read(fn, *args)

    stores.db.read = recorded  # type: ignore[method-assign]
    try:
        await asyncio.sleep(AFTER_A_LOOK)
        assert await stores.accounts.by_subdomain(world.subdomain) is not None
    finally:
        del stores.db.read
    assert "by_subdomain" not in read


async def test_every_watched_table_writes_down_its_changes(stores: Stores) -> None:
    """Migration 0019's triggers are all there (a later migration that rebuilds a watched
    table must make them again: this fails if it did not)."""
    with stores.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            names = {row[0] for row in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
            expected = {
                f"changed_{table}_{event}"
                for table, events in {
                    "accounts": ("update", "delete"),
                    "clients": ("update", "delete"),
                    "users": ("update", "delete"),
                    "signing_keys": ("insert", "update", "delete"),
                }.items()
                for event in events
            }
        else:
            names = {row[0] for row in conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
            expected = {f"changed_{table}" for table in ("accounts", "clients", "users", "signing_keys")}
    assert expected <= names


async def test_rows_older_than_an_hour_are_purged(stores: Stores, clock: Clock) -> None:
    """storage/purge.py: the table keeps an hour of changes; a process that looked an hour
    ago sees the count change and forgets once more, which is harmless."""
    now = clock()
    table = changes.changes

    def add(conn: sa.Connection) -> list[int]:
        return [
            conn.execute(sa.insert(table).values(at=at).returning(table.c.id)).scalar_one()
            for at in (now - changes.KEPT - 60, now - changes.KEPT + 60)
        ]

    old, recent = await stores.db.write(add)
    await stores.db.write(changes.purge_old, now)
    left = await stores.db.read(lambda conn: {row[0] for row in conn.execute(sa.select(table.c.id))})
    assert old not in left and recent in left


async def test_a_change_is_seen_whatever_order_rows_come_and_go_in(stores: Stores, clock: Clock) -> None:
    """A transaction may commit after one that took a later id (PostgreSQL), and the purge
    may delete an old row in the same moment: the same count and the same newest id, and
    still a change, which the sum of the ids shows (changes.py)."""
    table = changes.changes
    watch = changes.ChangeWatch(stores.db)

    def rows(conn: sa.Connection) -> list[int]:
        return sorted(row[0] for row in conn.execute(sa.select(table.c.id)))

    def add(conn: sa.Connection, *ids: int) -> None:
        for row_id in ids:
            conn.execute(sa.insert(table).values(id=row_id, at=clock()))

    base = max([0, *await stores.db.read(rows)]) + 1000
    await stores.db.write(add, base, base + 10)  # an old row, and the newest
    await watch.look()
    seen = watch.generation

    def late_commit_while_the_oldest_goes(conn: sa.Connection) -> None:
        conn.execute(sa.delete(table).where(table.c.id == base))
        add(conn, base + 5)  # a lower id than the newest, committed later

    await stores.db.write(late_commit_while_the_oldest_goes)
    await watch.look()
    assert watch.generation == seen + 1
    await stores.db.write(lambda conn: conn.execute(sa.delete(table).where(table.c.id >= base)))


class _FailingOnce:
    """A database whose first aggregate read fails, as a look in a database outage does."""

    def __init__(self, db: object) -> None:
        self._db = db
        self.failed = False

    async def fetch_one(self, statement: object, params: dict[str, object]) -> object:
        if not self.failed:
            self.failed = True
            raise StorageUnavailable("the database is out of reach")
        return await self._db.fetch_one(statement, params)  # type: ignore[attr-defined]


async def test_a_first_look_that_failed_hides_no_change(stores: Stores) -> None:
    """What was remembered before any successful look is forgotten at the first one, so a
    change made while the database could not be read is not missed."""
    watch = changes.ChangeWatch(_FailingOnce(stores.db))  # type: ignore[arg-type]
    await watch.look()
    assert watch.generation == 0
    await watch.look()
    assert watch.generation == 1


async def test_a_look_reads_the_newest_rows_and_one_at_a_time(stores: Stores, clock: Clock) -> None:
    """A look's cost does not grow with the table: it reads RECENT ids below the newest it
    saw; a late commit within them is still seen. While a look is on its way no other is
    due, so a slow database does not get a queue of them."""
    table = changes.changes
    watch = changes.ChangeWatch(stores.db)
    base = max([0, *await stores.db.read(lambda c: [r[0] for r in c.execute(sa.select(table.c.id))])]) + 1000
    ids = [base + i for i in range(0, 3 * changes.RECENT, 2)]  # gaps: room for late commits

    def add(conn: sa.Connection, *new: int) -> None:
        for row_id in new:
            conn.execute(sa.insert(table).values(id=row_id, at=clock()))

    await stores.db.write(add, *ids)
    await watch.look()
    await watch.look()  # the floor moves up to RECENT below the newest
    seen = watch.generation
    await stores.db.write(add, ids[-1] - changes.RECENT // 2 + 1)  # committed after later ids
    await watch.look()
    assert watch.generation == seen + 1

    started = asyncio.Event()
    release = asyncio.Event()
    real = stores.db.fetch_one

    async def slow(statement, params):  # type: ignore[no-untyped-def]
        started.set()
        await release.wait()
        return await real(statement, params)

    stores.db.fetch_one = slow  # type: ignore[method-assign]
    try:
        watch._looked_at = -changes.CHECK_EVERY  # due now
        pending = asyncio.ensure_future(watch.look())
        await started.wait()
        await asyncio.sleep(changes.CHECK_EVERY * 2)
        assert not watch.due()
        release.set()
        await pending
    finally:
        del stores.db.fetch_one
    await stores.db.write(lambda conn: conn.execute(sa.delete(table).where(table.c.id >= base)))


async def test_a_key_read_before_a_change_is_not_remembered_after_it(
    stores: Stores, world: World, clock: Clock
) -> None:
    """The key ring guards its entries as cache.Memo does: a read that was on its way when
    the ring forgot (a change seen by another request's look) is used once, not kept, or the
    old key would sign for 60 s more."""
    ring = KeyRing(stores.keys, CIPHER, clock)
    await ring.signing_key(world.account.id, "ES256")  # the ring's watch has looked
    reads = 0
    real = stores.keys.current_private
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow(account_id: int, alg: str):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        if reads == 1:
            inside.set()
            await release.wait()
        return await real(account_id, alg)

    stores.keys.current_private = slow  # type: ignore[method-assign]
    try:
        ring._signing.clear()
        pending = asyncio.ensure_future(ring.signing_key(world.account.id, "ES256"))
        await inside.wait()
        ring._signing.clear()  # what another request's look does when it sees a change
        release.set()
        await pending
        await ring.signing_key(world.account.id, "ES256")
    finally:
        del stores.keys.current_private
    assert reads == 2  # the first read was not kept
