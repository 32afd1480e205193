"""Storage raises its own exceptions (tessera/storage/errors.py), never the database's:
nothing outside tessera/storage imports SQLAlchemy or a driver (scripts/check-boundaries),
so an unreachable database must still arrive as StorageUnavailable, on either engine and
whether the statement ran through SQLAlchemy or on the driver's cursor (storage/compiled.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.key_cipher import KeyCipher
from tessera.key_ring import generate
from tessera.storage import keys, schema
from tessera.storage.compiled import Compiled
from tessera.storage.database import open_database
from tessera.storage.errors import Duplicate, StorageFailed, StorageUnavailable
from tessera.storage.stores import Stores
from tests.support import Clock, World

pytestmark = pytest.mark.anyio


def _driver_gone(conn: Connection) -> None:
    dbapi: Any = conn.dialect.dbapi
    raise dbapi.OperationalError("server closed the connection unexpectedly")


def _sqlalchemy_gone(_conn: Connection) -> None:
    raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


@pytest.mark.parametrize("fn", [_driver_gone, _sqlalchemy_gone], ids=["driver", "sqlalchemy"])
async def test_an_unreachable_database_is_storage_unavailable_on_reads_and_writes(stores: Stores, fn: Any) -> None:
    with pytest.raises(StorageUnavailable) as read:
        await stores.db.read(fn)
    with pytest.raises(StorageUnavailable) as write:
        await stores.db.write(fn)
    for raised in (read.value, write.value):
        assert "connection" in str(raised)  # the database's own words, for the log and the CLI
        assert raised.__cause__ is not None


async def test_a_refused_statement_is_storage_failed(stores: Stores, world: World, clock: Clock) -> None:
    def nameless(conn: Connection) -> None:  # accounts.name is NOT NULL
        conn.execute(schema.accounts.insert().values(subdomain=f"nameless-{world.subdomain}", created_at=clock()))

    with pytest.raises(StorageFailed):
        await stores.db.write(nameless)


async def test_an_unavailable_write_does_not_disturb_its_batch(stores: Stores, world: World, clock: Clock) -> None:
    good = [stores.accounts.create(f"near{i}-{world.subdomain}", "ok", clock()) for i in range(3)]
    results = await asyncio.gather(stores.db.write(_driver_gone), *good, return_exceptions=True)
    assert isinstance(results[0], StorageUnavailable)
    assert all(not isinstance(r, Exception) for r in results[1:])


async def test_a_lost_race_to_install_signing_keys_is_duplicate(stores: Stores, clock: Clock, world: World) -> None:
    """key_ring.ensure relies on it: the node that loses re-reads the winner's keys."""
    account = await stores.accounts.create(f"keys-{world.subdomain}", "keys", clock())
    cipher = KeyCipher("test-secret-key-" + "x" * 32)
    winner_next = generate("ES256", cipher)
    await stores.db.write(keys._insert, account.id, winner_next, clock(), False)  # the winner's next key
    with pytest.raises(Duplicate):
        await stores.keys.install(account.id, [(generate("ES256", cipher), generate("ES256", cipher))], clock())


def _nothing(conn: Connection) -> int:
    return 1


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_database_that_cannot_be_opened_is_storage_unavailable(engine: str, tmp_path: Path) -> None:
    """The connection itself fails (server down, file unreachable): reads and writes are
    refused at once with StorageUnavailable, and no write is left waiting."""
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'tessera.db'}"
    else:
        url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    db = open_database(url)
    try:
        with pytest.raises(StorageUnavailable):
            await db.read(_nothing)
        with pytest.raises(StorageUnavailable):
            await asyncio.wait_for(db.write(_nothing), timeout=10)
    finally:
        db.close()


_CLAIM_ROW = Compiled(
    schema.used_once.insert().values(
        kind=sa.bindparam("kind"), digest=sa.bindparam("digest"), expires_at=sa.bindparam("expires_at")
    )
)


async def test_a_refused_single_statement_does_not_disturb_its_batch(
    stores: Stores, world: World, clock: Clock
) -> None:
    """change_one and write_one run without a savepoint of their own on SQLite: a statement
    the database refuses is undone alone, and the writes batched with it stand."""
    taken = {"kind": "test", "digest": f"taken {world.subdomain}".encode(), "expires_at": clock() + 60}
    assert await stores.db.change_one(_CLAIM_ROW, taken) == 1
    fresh = [{**taken, "digest": f"fresh {i} {world.subdomain}".encode()} for i in range(3)]
    results = await asyncio.gather(
        stores.db.change_one(_CLAIM_ROW, fresh[0]),
        stores.db.change_one(_CLAIM_ROW, taken),  # the primary key again
        stores.db.change_one(_CLAIM_ROW, fresh[1]),
        stores.accounts.create(f"beside-{world.subdomain}", "ok", clock()),
        stores.db.change_one(_CLAIM_ROW, fresh[2]),
        return_exceptions=True,
    )
    assert isinstance(results[1], StorageFailed)
    assert [results[0], results[2], results[4]] == [1, 1, 1]
    assert not isinstance(results[3], Exception)
    again = await asyncio.gather(*(stores.db.change_one(_CLAIM_ROW, row) for row in fresh), return_exceptions=True)
    assert all(isinstance(result, StorageFailed) for result in again)  # each was written once


async def test_a_single_statement_that_ends_the_transaction_fails_its_whole_batch(
    stores: Stores, world: World, clock: Clock
) -> None:
    """Should a failing statement end the transaction itself (SQLite may, on a full disk or
    an I/O error), no write of its batch is answered as written: they were undone with it."""
    if stores.db.dialect != "sqlite":
        pytest.skip("the SQLite group commit")

    class EndsTheTransaction:
        def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
            driver: Any = conn.connection.driver_connection
            driver.execute("ROLLBACK")
            raise driver.OperationalError("disk I/O error")

    before, after = (
        {"kind": "test", "digest": f"{w} {world.subdomain}".encode(), "expires_at": clock() + 60}
        for w in ("before", "after")
    )
    results = await asyncio.gather(
        stores.db.change_one(_CLAIM_ROW, before),
        stores.db.change_one(EndsTheTransaction(), {}),  # type: ignore[arg-type]
        stores.db.change_one(_CLAIM_ROW, after),  # never run outside the batch's transaction
        return_exceptions=True,
    )
    assert all(isinstance(result, StorageUnavailable) for result in results)
    assert await stores.db.change_one(_CLAIM_ROW, before) == 1  # neither was written
    assert await stores.db.change_one(_CLAIM_ROW, after) == 1
