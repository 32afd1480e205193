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
row's, and the sum moves whenever rows come and go in equal numbers. A look reads only the
newest rows (RECENT), inline on the loop thread for SQLite, a round trip for PostgreSQL;
at most 1/CHECK_EVERY of them a second, whatever the load, and one at a time.
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
# A look reads the rows from this many ids below the newest it saw, not the whole table:
# room for a transaction that took an id and committed after later ones, at a cost that
# does not grow with the table (which an hour of changes, or a purge turned off, can make
# large). A transaction that stayed open while a hundred later changes committed would be
# missed until the memos expire by themselves.
RECENT = 100

_ABOVE_NEXT = changes.c.id > sa.bindparam("next")
_LOOK = Compiled(
    sa.select(
        sa.func.count(),
        sa.func.sum(changes.c.id),
        sa.func.count(sa.case((_ABOVE_NEXT, changes.c.id))),
        sa.func.sum(sa.case((_ABOVE_NEXT, changes.c.id))),
        sa.func.max(changes.c.id),
    ).where(changes.c.id > sa.bindparam("floor"))
)


class ChangeWatch:
    """One per database: `generation` grows each time a look finds `changes` changed."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._looked_at = -CHECK_EVERY
        self._looking = False
        # What the last look saw of the rows above _floor (None: nothing seen yet).
        self._floor = 0
        self._seen: tuple[object, object] | None = None
        self._newest = 0
        self.generation = 0

    def due(self) -> bool:
        """Time to look, unless a look is on its way: requests do not queue looks behind a
        slow one (a saturated PostgreSQL pool); they use what is remembered meanwhile."""
        return not self._looking and time.monotonic() - self._looked_at >= CHECK_EVERY

    async def look(self) -> None:
        self._looked_at = time.monotonic()
        self._looking = True
        next_floor = max(self._floor, self._newest - RECENT)
        try:
            row = await self._db.fetch_one(_LOOK, {"floor": self._floor, "next": next_floor})
        except StorageError:
            return  # the database is out of reach: what is remembered serves, as before
        finally:
            self._looking = False
        assert row is not None  # an aggregate always answers one row
        count, total, next_count, next_total, newest = row
        if (count, total) != self._seen:
            # Also the first time: whatever was remembered before any look is forgotten,
            # so a first look that failed cannot hide a change made since.
            self.generation += 1
        self._floor, self._seen = next_floor, (next_count, next_total)
        self._newest = max(self._newest, int(newest or 0))


_WATCHES: weakref.WeakKeyDictionary[object, ChangeWatch] = weakref.WeakKeyDictionary()


def watch_of(db: Database) -> ChangeWatch:
    """The database's watch, shared by every store and key ring over it."""
    watch = _WATCHES.get(db)
    if watch is None:
        watch = _WATCHES[db] = ChangeWatch(db)
    return watch


def purge_old(conn: Connection, now: float) -> int:
    return conn.execute(sa.delete(changes).where(changes.c.at <= now - KEPT)).rowcount
