"""When SQLite will not take the writer's batch: another process holds the write lock, or a
COMMIT has not returned within the timeout (sqlite_writer.py's SQLiteDatabase takes these
steps from WriteRefusals; the state they read and set is the writer's, declared below).
Neither runs on a write that succeeds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
from typing import Any

from tessera.storage.errors import StorageUnavailable
from tessera.storage.sqlite_batch import FLUSH_SCHEDULED, IDLE, InFlightCommit, WriteJob, Writer, settle

log = logging.getLogger("tessera.storage")


class WriteRefusals:
    """The busy retry (`_retry_when_busy`) and the overdue commit (`_commit_overdue`), each
    ending in `_refuse_pending`: every waiting write answered StorageUnavailable (503)."""

    timeout: float
    _state: Writer
    _pending: list[WriteJob]
    _busy_retries: int
    _busy_since: float
    _in_commit: InFlightCommit | None
    _overdue: asyncio.TimerHandle | None

    def _flush(self) -> None:
        raise NotImplementedError  # the writer's

    def _retry_when_busy(self, loop: asyncio.AbstractEventLoop, error: sqlite3.OperationalError) -> None:
        """Another process holds the write lock (several workers on one file): retry soon,
        until it has been held for the timeout; then refuse what waits, and start counting
        again for the writes that come after."""
        now = loop.time()
        if self._busy_retries == 0:
            self._busy_since = now
        self._busy_retries += 1
        if now - self._busy_since >= self.timeout:
            log.warning(
                "sqlite write lock held by another connection for %.1f s: refusing writes", now - self._busy_since
            )
            self._refuse_pending(StorageUnavailable(f"the database stayed locked for {self.timeout:g} s: {error}"))
            self._busy_retries = 0
            self._state = IDLE
            return
        self._state = FLUSH_SCHEDULED
        loop.call_later(min(0.0005 * self._busy_retries, 0.02), self._flush)

    def _refuse_pending(self, failure: Exception) -> None:
        batch, self._pending = self._pending, []
        for job in batch:
            settle(job.future, False, failure)

    def _commit_overdue(self, commit: concurrent.futures.Future[Any]) -> None:
        """The COMMIT has run for the timeout: answer its batch and the writes queued behind
        it now (their outcome is unknown: the caller hears 503 and may retry), and look
        again after another timeout. The COMMIT itself cannot be interrupted; _committed
        picks up when it returns."""
        in_flight = self._in_commit
        if in_flight is None or in_flight.future is not commit:
            return
        log.error("sqlite commit of %d writes has not returned within %g s", len(in_flight.batch), self.timeout)
        failure = StorageUnavailable(f"the database did not commit within {self.timeout:g} s")
        for job in in_flight.batch:
            settle(job.future, False, failure)
        self._refuse_pending(failure)
        self._overdue = asyncio.get_running_loop().call_later(self.timeout, self._commit_overdue, commit)
