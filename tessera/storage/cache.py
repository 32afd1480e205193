"""A small per-process memo with bounded staleness, for rows every request reads and
almost nothing writes: accounts by subdomain, clients by identifier and by numeric id,
users by id.

The bound (docs/architecture.md): a change made through this process is seen at once
(the store clears the memo on its own writes); a change made elsewhere (another node,
the CLI) within changes.CHECK_EVERY seconds, when the memo has a watch (changes.py), and
within TTL seconds whatever happens. Misses are not remembered, so a newly created
client or account works everywhere immediately. Codes and sessions are never cached;
access tokens are, for half a second only, under the same rule (storage/tokens.py): a
revocation is seen at once by the node that made it and within that half second by others.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from tessera.storage.changes import ChangeWatch
    from tessera.storage.database import Database

K = TypeVar("K")
V = TypeVar("V")

TTL = 2.0
MAX_ENTRIES = 10_000


class Memo(Generic[K, V]):
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES, watch: ChangeWatch | None = None) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        # Bumped by clear(): a read that started before a change (and was still waiting for
        # the database) must not put what it read back into the memo after the change.
        self._generation = 0
        self._watch = watch
        self._seen = 0  # the watch's generation when this memo was last made current

    def _stale(self) -> bool:
        """Whether the watch must look, or saw a change this memo has not forgotten yet: the
        check on every read, kept synchronous (no coroutine when nothing is to be done)."""
        watch = self._watch
        return watch is not None and (watch.generation != self._seen or watch.due())

    async def _follow(self) -> None:
        """Look if it is time, and forget everything if a change made elsewhere was seen."""
        watch = self._watch
        assert watch is not None
        if watch.due():
            await watch.look()
        if watch.generation != self._seen:
            self._seen = watch.generation
            self.clear()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] >= self.ttl:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self.max_entries:
            # Oldest first: dicts keep insertion order.
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    async def read_through(self, key: K, db: Database, fn: Callable[..., V | None], *args: Any) -> V | None:
        """The remembered value, else `db.read(fn, *args)`, remembered if found and if the
        memo was not cleared while it was read. (load_through's logic, written out: this
        runs several times per request, and the extra call and closure cost ~0.3 us each.)"""
        if self._stale():
            await self._follow()
        value = self.get(key)
        if value is None:
            generation = self._generation
            value = await db.read(fn, *args)
            if value is not None and generation == self._generation:
                self.put(key, value)
        return value

    async def load_through(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The remembered value, else what `load()` finds, remembered as read_through does."""
        if self._stale():
            await self._follow()
        value = self.get(key)
        if value is None:
            generation = self._generation
            value = await load()
            if value is not None and generation == self._generation:
                self.put(key, value)
        return value
