"""The SQLite write-ahead log stays small under sustained writes (storage/sqlite_writer.py).

SQLite starts the WAL over only once a checkpoint has copied every frame into the
database; a checkpoint running beside a writer that never pauses never gets there. The
writer therefore pauses for a short catch-up checkpoint after each background one. Before
that, a benchmark left a 2.2 GB WAL behind: this test would have seen it grow without end.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage import sqlite_writer
from tessera.storage.sqlite_writer import SQLiteDatabase

PAGE = 4096
WRITES = 600


def _create(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)")


def _insert(conn: Connection, size: int) -> None:
    conn.execute(sa.text("INSERT INTO filler (body) VALUES (randomblob(:size))"), {"size": size})


def test_the_wal_starts_over_while_writes_keep_coming(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_writer, "CHECKPOINT_EVERY", 20)
    db = SQLiteDatabase(f"sqlite:///{tmp_path / 'wal.db'}")
    wal = tmp_path / "wal.db-wal"

    async def write_continuously() -> int:
        await db.write(_create)
        largest = 0
        # Several writers at a time, as under load: the batches never leave the writer idle.
        for _ in range(WRITES // 4):
            await asyncio.gather(*(db.write(_insert, 3000) for _ in range(4)))
            largest = max(largest, wal.stat().st_size)
        return largest

    try:
        largest = asyncio.run(write_continuously())
        with db.engine.connect() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM filler").scalar()
    finally:
        db.close()
    assert count == WRITES
    # Every write dirties at least one page of its own: a WAL that never started over
    # would hold them all.
    assert largest < WRITES * PAGE / 3, f"the WAL grew to {largest} bytes"
