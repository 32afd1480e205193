"""SQLiteDatabase.write_before_commit (storage/sqlite_writer.py): a write answered once its
statements have run in the batch, without waiting for the batch's COMMIT, and committed
with that batch all the same. The used-once claims of DPoP proofs use it
(storage/used_once.py), so a claim never holds its request for the disk's flush."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage import migrate
from tessera.storage.sqlite_writer import SQLiteDatabase
from tessera.storage.used_once import EARLY_HORIZON, SqlUsedOnceStore


def _create(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE claims (value TEXT PRIMARY KEY)")


def _claim(conn: Connection, value: str) -> bool:
    inserted = conn.execute(
        sa.text("INSERT INTO claims (value) VALUES (:value) ON CONFLICT DO NOTHING RETURNING value"), {"value": value}
    ).first()
    return inserted is not None


def _fail(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")


def _count(path: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM claims").scalar_one())
    finally:
        engine.dispose()


def test_answered_before_the_commit_and_committed_with_its_batch(tmp_path: Path) -> None:
    path = tmp_path / "claims.db"
    db = SQLiteDatabase(f"sqlite:///{path}")
    flush = threading.Event()

    async def scenario() -> None:
        await db.write(_create)
        # The commit thread runs one thing at a time: while it waits here, no COMMIT can
        # return, as if the disk were slow to flush.
        stalled = asyncio.get_running_loop().run_in_executor(db._commit_thread, flush.wait)
        plain = asyncio.ensure_future(db.write(_claim, "durable"))
        early = await asyncio.gather(db.write_before_commit(_claim, "a"), db.write_before_commit(_claim, "a"))
        # Both claims were decided and answered, the second seeing the first (one write
        # lock); the plain write of the same batch still waits for its COMMIT.
        assert early == [True, False]
        assert not plain.done()
        flush.set()
        await stalled
        assert await plain is True

    try:
        asyncio.run(scenario())
    finally:
        flush.set()
        db.close()
    assert _count(path) == 2


def test_a_failing_write_is_refused_alone(tmp_path: Path) -> None:
    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'claims.db'}")

    async def scenario() -> list[bool | BaseException]:
        await db.write(_create)
        return await asyncio.gather(
            db.write_before_commit(_claim, "b"),
            db.write_before_commit(_fail),
            db.write(_claim, "c"),
            return_exceptions=True,
        )

    try:
        first, failed, plain = asyncio.run(scenario())
    finally:
        db.close()
    assert first is True and plain is True
    assert isinstance(failed, Exception) and "no_such_table" in str(failed)
    assert _count(tmp_path / "claims.db") == 2


def test_only_a_short_lived_claim_skips_the_wait_for_its_commit(tmp_path: Path) -> None:
    """A DPoP proof's jti (a minute or two) is answered before its COMMIT; a client
    assertion's (up to an hour: losing it would reopen a long replay window) is not."""
    url = f"sqlite:///{tmp_path / 'used_once.db'}"
    migrate.upgrade(url)
    db = SQLiteDatabase(url)
    store = SqlUsedOnceStore(db)
    flush = threading.Event()
    now = 1_800_000_000.0

    async def scenario() -> None:
        stalled = asyncio.get_running_loop().run_in_executor(db._commit_thread, flush.wait)
        long_lived = asyncio.ensure_future(store.first_use("assertion", "x", now + EARLY_HORIZON + 1, now))
        assert await store.first_use("dpop", "y", now + 121, now) is True
        assert not long_lived.done()
        flush.set()
        await stalled
        assert await long_lived is True

    try:
        asyncio.run(scenario())
    finally:
        flush.set()
        db.close()
