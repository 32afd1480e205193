"""The storage contract of the SQL stores beyond the protocol's ports, on SQLite and PostgreSQL:
the schema, the engines, sessions, uniqueness (throttle counters: test_throttles.py).

The promises of tessera/protocol/ports.py are in test_port_contract.py, which also runs
them against the in-memory stores.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tessera.protocol import secrets
from tessera.storage import schema
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores
from tests.support import Clock, World, add_client

pytestmark = pytest.mark.anyio


def test_migrations_create_exactly_the_schema_the_code_queries(database: Database) -> None:
    """Alembic's baseline and tessera/storage/schema.py must not drift apart."""
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_sqlite_connections_are_durable_and_in_wal_mode(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite pragmas")
    with database.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
        assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # MEMORY: a write batch's sub-journal (its savepoints' old pages) never spills to a
        # temporary file, which cost code redemptions and refreshes ~25 pwrites each.
        assert raw.execute("PRAGMA temp_store").fetchone()[0] == 2


async def test_sessions_expire_and_are_replaced_at_sign_in(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    old, new = secrets.digest("old-cookie" + secrets.new_family()), secrets.digest("new-cookie" + secrets.new_family())
    await stores.sessions.start(None, old, world.account.id, world.user.id, now, now + 60)
    assert (await stores.sessions.find(old, now, now - 3600)) is not None
    assert (await stores.sessions.find(old, now + 60, now - 3600)) is None  # expired at expires_at
    await stores.sessions.start(old, new, world.account.id, world.admin.id, now, now + 60)
    assert (await stores.sessions.find(old, now, now - 3600)) is None  # the replaced session is gone
    found = await stores.sessions.find(new, now, now - 3600)
    assert found is not None and found.user_id == world.admin.id
    await stores.sessions.end(new)
    assert (await stores.sessions.find(new, now, now - 3600)) is None


async def test_an_idle_session_ends_and_a_touch_keeps_it_alive_written_once(
    stores: Stores, world: World, clock: Clock
) -> None:
    """The idle timeout (docs/security.md, "Sessions"): a session last used at or before
    `idle_since` is not found; `touch` records a use only when none after `seen_before` is."""
    now = clock()
    digest = secrets.digest("idle-cookie" + secrets.new_family())
    started = await stores.sessions.start(None, digest, world.account.id, world.user.id, now, now + 86400)
    assert started.last_seen_at == now
    assert (await stores.sessions.find(digest, now + 100, now)) is None  # unused since `now`: idle
    await stores.sessions.touch(started.id, now + 100, now + 40)
    seen = await stores.sessions.find(digest, now + 100, now)
    assert seen is not None and seen.last_seen_at == now + 100
    await stores.sessions.touch(started.id, now + 130, now + 70)  # a use after now + 70 is recorded: no write
    again = await stores.sessions.find(digest, now + 130, now)
    assert again is not None and again.last_seen_at == now + 100


async def test_client_identifiers_cannot_collide_with_global_ones(stores: Stores, world: World, clock: Clock) -> None:
    from tessera.storage import client_rows

    now = clock()
    global_client = await add_client(
        stores, None, now, identifier=f"shared-{world.subdomain}", redirect_uris=("https://g.example.com/cb",)
    )
    spec = client_rows.NewClient(
        account_id=world.account.id,
        identifier=global_client.client_id,
        name="x",
        description="",
        company="",
        logo_url="",
        redirect_uris=(),
        kind="confidential",
        grant_types=("client_credentials",),
        allowed_scopes=(),
        access_token_lifetime=1800,
        refresh_token_lifetime=2592000,
        access_token_format="opaque",
        introspection=False,
        user_id=world.admin.id,
        secret_hash=None,
        secret_prefix="",
    )
    with pytest.raises(Duplicate):
        await stores.clients.create(spec, now)


async def test_user_emails_are_unique_per_account_regardless_of_case(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    with pytest.raises(Duplicate):
        await stores.users.create(world.account.id, "USER@Example.com", "Dup", "end-user", "x", now)


async def test_a_failing_write_does_not_disturb_the_writes_batched_with_it(
    stores: Stores, world: World, clock: Clock
) -> None:
    """The SQLite writer runs each job in its own savepoint; PostgreSQL runs each in its own transaction."""
    now = clock()

    def half_then_fail(conn):  # type: ignore[no-untyped-def]
        conn.execute(schema.accounts.insert().values(subdomain=f"half-{world.subdomain}", name="half", created_at=now))
        raise RuntimeError("boom")

    good = [stores.accounts.create(f"ok{i}-{world.subdomain}", "ok", now) for i in range(5)]
    results = await asyncio.gather(stores.db.write(half_then_fail), *good, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert all(not isinstance(r, Exception) for r in results[1:])
    assert await stores.accounts.by_subdomain(f"half-{world.subdomain}") is None
    for i in range(5):
        assert await stores.accounts.by_subdomain(f"ok{i}-{world.subdomain}") is not None
