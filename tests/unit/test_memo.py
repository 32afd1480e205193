"""storage/cache.py's Memo: the bounded-staleness memo behind the account, client, user and
access-token lookups (docs/architecture.md, "What is cached in process")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import pytest

from tessera.storage.cache import Memo

pytestmark = pytest.mark.anyio

T = TypeVar("T")


class CountingDb:
    """Stands in for Database.read; `during_read` runs while a read is in flight."""

    def __init__(self, during_read: Callable[[], None] = lambda: None) -> None:
        self.reads = 0
        self.during_read = during_read

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        self.reads += 1
        self.during_read()
        return fn(None, *args)


def _row(_conn: object, key: str) -> str | None:
    return None if key == "missing" else f"row {key}"


async def test_a_found_value_is_read_once_within_the_ttl() -> None:
    memo: Memo[str, str] = Memo(ttl=60)
    db = CountingDb()
    assert await memo.read_through("a", db, _row, "a") == "row a"  # type: ignore[arg-type]
    assert await memo.read_through("a", db, _row, "a") == "row a"  # type: ignore[arg-type]
    assert db.reads == 1


async def test_a_miss_is_not_remembered() -> None:
    # A client or account created a moment ago must work everywhere at once.
    memo: Memo[str, str] = Memo(ttl=60)
    db = CountingDb()
    for _ in range(2):
        assert await memo.read_through("missing", db, _row, "missing") is None  # type: ignore[arg-type]
    assert db.reads == 2


async def test_a_value_is_read_again_after_the_ttl() -> None:
    memo: Memo[str, str] = Memo(ttl=0.01)
    db = CountingDb()
    await memo.read_through("a", db, _row, "a")  # type: ignore[arg-type]
    await anyio.sleep(0.02)
    await memo.read_through("a", db, _row, "a")  # type: ignore[arg-type]
    assert db.reads == 2


async def test_a_read_overtaken_by_a_clear_is_not_remembered() -> None:
    memo: Memo[str, str] = Memo(ttl=60)
    db = CountingDb(during_read=memo.clear)  # a change lands while the read is in flight
    await memo.read_through("a", db, _row, "a")  # type: ignore[arg-type]
    db.during_read = lambda: None
    await memo.read_through("a", db, _row, "a")  # type: ignore[arg-type]
    assert db.reads == 2


def test_the_oldest_entry_makes_room() -> None:
    memo: Memo[str, int] = Memo(ttl=60, max_entries=2)
    for i, key in enumerate("abc"):
        memo.put(key, i)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (None, 1, 2)
