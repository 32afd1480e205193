"""What the SQLite group commit (sqlite_writer.py) is made of: the writes waiting, the
batch whose COMMIT is in flight, and the named state of the writer and of its WAL
checkpoint.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class Writer(enum.Enum):
    """What the write path is doing; exactly one at a time."""

    IDLE = "idle"  # nothing in flight: the next write schedules a flush
    FLUSH_SCHEDULED = "flush scheduled"  # a flush waits on the loop (call_soon; call_later while the lock is busy)
    COMMITTING = "committing"  # a batch's COMMIT runs on the commit thread; new writes queue for the next batch
    CATCHING_UP = (
        "catching up"  # step 2 of a checkpoint holds the writer (SQLiteDatabase._start_checkpoint); new writes queue
    )


class Checkpoint(enum.Enum):
    """Where the WAL checkpoint of SQLiteDatabase._start_checkpoint stands."""

    NONE = "none"
    COPYING = "copying"  # step 1 runs on the checkpoint thread
    CATCH_UP_DUE = "catch-up due"  # step 1 ended while a batch was on its way: step 2 follows its commit


# The members as module names: looking a member up through its Enum class costs ~100 ns in
# Python 3.11 (measured), several times per write; a global costs what the flags it
# replaced did.
IDLE, FLUSH_SCHEDULED, COMMITTING, CATCHING_UP = Writer
NO_CHECKPOINT, COPYING, CATCH_UP_DUE = Checkpoint


class WriteJob:
    """A write waiting for its batch. `alone`: it is one statement, atomic by itself
    (Database.write_one, insert_one, change_one), so it needs no SAVEPOINT of its own."""

    __slots__ = ("alone", "args", "fn", "future")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], future: asyncio.Future[Any], alone: bool = False
    ) -> None:
        self.fn = fn
        self.args = args
        self.future = future
        self.alone = alone


@dataclass(slots=True)
class InFlightCommit:
    """The batch whose COMMIT runs on the commit thread: `results` holds each job's
    (ok, value) from its savepoint, answered once the COMMIT has succeeded."""

    future: concurrent.futures.Future[Any]
    batch: list[WriteJob]
    results: list[tuple[bool, Any]]


def settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        # Cancelled: the caller went away; the write stands all the same. Or already
        # refused because its COMMIT ran past the timeout (SQLiteDatabase._commit_overdue).
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def failure(done: asyncio.Future[Any]) -> BaseException | None:
    """The exception of a thread's work as asyncio wrapped it, marked as retrieved: else
    asyncio logs "Future exception was never retrieved" with a traceback at garbage
    collection, once per failed commit or checkpoint (a full disk wrote one per request)."""
    return None if done.cancelled() else done.exception()
