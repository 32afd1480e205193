"""Changes made outside this process to the rows it remembers, noticed within CHECK_EVERY.

A serving process remembers accounts, clients and users (cache.py) and signing keys
(key_ring.py), which nearly every request reads and almost nothing writes. Its own writes
make it forget them at once; a change made elsewhere (the CLI, another worker or node) is
written down by a trigger in the same transaction, one row in `changes` (migration 0019).
Before a remembered value is used, a process that has not looked for CHECK_EVERY seconds
looks at `changes` (the number of rows and the sum of their ids) and, when either moved,
forgets everything it remembered. Rows are visible only once committed, and on PostgreSQL
a transaction may commit after one that took a later id, so the newest id alone could miss
it; the count alone could miss a row added while the purge deleted one. Together they
cannot: the rows the purge deletes are an hour old, so their ids are smaller than any new
row's, and the sum moves whenever rows come and go in equal numbers. The look is one read
of a small table (an hour of changes): inline on the loop thread for SQLite, a round trip
for PostgreSQL; at most 1/CHECK_EVERY of them a second, whatever the load.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage.compiled import Compiled
from tessera.storage.errors import StorageError
from tessera.storage.schema import changes as changes

if TYPE_CHECKING:
    from tessera.storage.database import Database

CHECK_EVERY = 0.01  # seconds
KEPT = 3600.0  # seconds a row is kept; purge.py deletes older ones

_LOOK = Compiled(sa.select(sa.func.count(), sa.func.sum(changes.c.id)).select_from(changes))


class ChangeWatch:
    """One per database: `generation` grows each time a look finds `changes` changed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._looked_at = -CHECK_EVERY
        self._seen: tuple[object, ...] | None = None
        self.generation = 0

    def due(self) -> bool:
        return time.monotonic() - self._looked_at >= CHECK_EVERY

    async def look(self) -> None:
        # Set first: the requests that arrive while a look is on its way use what is
        # remembered, rather than each sending a look of its own.
        self._looked_at = time.monotonic()
        try:
            seen = await self._db.fetch_one(_LOOK, {})
        except StorageError:
            return  # the database is out of reach: what is remembered serves, as before
        if seen != self._seen:
            if self._seen is not None:
                self.generation += 1
            self._seen = seen


_WATCHES: weakref.WeakKeyDictionary[object, ChangeWatch] = weakref.WeakKeyDictionary()


def watch_of(db: Database) -> ChangeWatch:
    """The database's watch, shared by every store and key ring over it."""
    watch = _WATCHES.get(db)
    if watch is None:
        watch = _WATCHES[db] = ChangeWatch(db)
    return watch


def purge_old(conn: Connection, now: float) -> int:
    return conn.execute(sa.delete(changes).where(changes.c.at <= now - KEPT)).rowcount
