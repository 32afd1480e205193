"""SQLite (embedded default, one machine): inline reads, group-committed writes.

Reads run inline on the event-loop thread on their own connection (sqlite_reader.py): a
WAL reader never waits for the writer, and an indexed lookup costs less than a thread
hop. Writes are
group-committed: every write waiting runs in its own SAVEPOINT inside one BEGIN
IMMEDIATE ... COMMIT, and only the COMMIT leaves the loop thread. With synchronous=FULL
every answered write is on disk (it survives a crash of the process and of the machine),
yet 32 concurrent token requests share one fsync instead of queueing for 32.

This is the hottest path of the server: every token request writes through it. State
changes are plain attribute stores; nothing here may add work per write.

No write waits longer than the timeout (TESSERA_DATABASE_TIMEOUT, docs/reliability.md):
while another process holds the write lock the batch is retried, and once the lock has
been held that long every waiting write is refused with StorageUnavailable (503); a COMMIT
that has not returned within it (a stalled disk) has its batch, and the writes queued
behind it, refused the same way. Both checks run per batch, never per write; they are
sqlite_refusals.py's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from tessera.storage.compiled import Compiled, CompiledInsert
from tessera.storage.engine import autocommit, create_engine
from tessera.storage.errors import DatabaseErrors, StorageUnavailable
from tessera.storage.grouped import Grouped
from tessera.storage.sqlite_batch import (
    CATCH_UP_DUE,
    CATCHING_UP,
    COMMITTING,
    FLUSH_SCHEDULED,
    IDLE,
    NO_CHECKPOINT,
    InFlightCommit,
    WriteJob,
    failure,
    settle,
)
from tessera.storage.sqlite_checkpoints import WalCheckpoints
from tessera.storage.sqlite_reader import InlineReader
from tessera.storage.sqlite_refusals import WriteRefusals

log = logging.getLogger("tessera.storage")


T = TypeVar("T")

MAX_BATCH = 256
# Commits between WAL checkpoints (see SQLiteDatabase._start_checkpoint).
CHECKPOINT_EVERY = 200
DEFAULT_TIMEOUT = 5.0  # seconds; TESSERA_DATABASE_TIMEOUT


class SQLiteDatabase(WalCheckpoints, WriteRefusals):
    """Inline reads; group-committed writes whose only thread hop is the COMMIT.

    A batch runs on the event-loop thread: BEGIN IMMEDIATE, then every waiting write in
    its own SAVEPOINT (a failing write is undone alone). Only the COMMIT, which carries the
    fsync and releases the GIL for it, runs on the commit thread. Writes that arrive
    meanwhile queue and form the next batch. Doing the Python work on one thread matters:
    a writer thread running SQLAlchemy code hands the GIL back and forth with the loop at
    every statement, and each handoff can wait out the interpreter's 5 ms switch interval
    (measured: commit p99 12 ms that way, docs/benchmarks.md).
    """

    dialect = "sqlite"

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = create_engine(url)
        self.timeout = timeout
        self._errors = DatabaseErrors(self.engine.dialect.dbapi)
        self._reads = InlineReader(self.engine, timeout, self._errors)
        self._writer: Connection | None = None
        self._pending: list[WriteJob] = []
        self._state = IDLE
        # The loop the batching state belongs to, and the batch being committed, so that a
        # new loop (the CLI, tests: one asyncio.run after another) can take over cleanly.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_commit: InFlightCommit | None = None
        self._busy_retries = 0
        self._busy_since = 0.0  # loop.time() of the first refusal of the write lock
        self._overdue: asyncio.TimerHandle | None = None
        self._commit_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-sqlite-commit")
        self._checkpoint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-sqlite-checkpoint")
        self._checkpointer: Any = None
        self._commits_since_checkpoint = 0
        self._checkpoint = NO_CHECKPOINT
        self._copying: concurrent.futures.Future[Any] | None = None
        # Step 2 of a checkpoint, running on the writer's own connection (see _catch_up).
        self._catching_up: concurrent.futures.Future[Any] | None = None

    def _writer_raw(self) -> Any:
        if self._writer is None:
            self._writer = autocommit(self.engine)
            raw: Any = self._writer.connection.driver_connection
            # Never wait inside sqlite for another process's write lock: that would block
            # the event loop. A busy database is retried from the loop instead.
            raw.execute("PRAGMA busy_timeout=0")
            # No checkpoint inside a COMMIT: it copies the WAL into the database and fsyncs,
            # stalling every write queued behind it (measured: token p99 at 8x p50).
            # _start_checkpoint runs them beside the writer instead.
            raw.execute("PRAGMA wal_autocheckpoint=0")
        return self._writer.connection.driver_connection

    def usage(self) -> tuple[int, int]:
        """Writes queued or committing, and the one writer (metrics)."""
        committing = 0 if self._in_commit is None else len(self._in_commit.batch)
        return len(self._pending) + committing, 1

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return self._reads.read(fn, *args)  # inline on the loop thread (sqlite_reader.py)

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take the write path over for a new event loop, finishing what the last one left:
        a commit still in flight is waited for and its batch settled, and so is a catch-up
        running on the writer's connection; a scheduled flush that will never run is
        forgotten (its writes join the next batch), and so is a catch-up that was due. A
        checkpoint copy still running on its own thread is left to finish."""
        if self._in_commit is not None:
            in_flight = self._in_commit
            self._finish(in_flight.future.exception(), in_flight.batch, in_flight.results)
        if self._catching_up is not None:  # else: "cannot open savepoint - SQL statements in progress"
            self._catching_up.exception()
            self._catching_up = None
        self._state = IDLE
        self._checkpoint = NO_CHECKPOINT
        self._loop = loop

    async def fetch_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return await self.read(statement.fetchone, params)

    # One statement, atomic by itself: it joins the batch like any write, without a
    # SAVEPOINT of its own (see _run_job).
    async def write_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        return await self._write(statement.fetchone, (params,), True)

    async def change_one(self, statement: Compiled, params: dict[str, Any]) -> int:
        return await self._write(statement.rowcount, (params,), True)

    async def insert_one(self, statement: CompiledInsert, params: dict[str, Any]) -> int:
        return await self._write(statement.execute, (params,), True)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._write(fn, args, False)

    async def write_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        # The batch already shares one COMMIT between concurrent writes: the statement alone.
        return grouped.answer_alone(await self.write_one(grouped.alone, params))

    async def fetch_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        # A read is a B-tree lookup on the loop thread, no round trip: the statement alone.
        return grouped.answer_alone(await self.fetch_one(grouped.alone, params))

    async def _write(self, fn: Callable[..., T], args: tuple[Any, ...], alone: bool) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(WriteJob(fn, args, future, alone))
        if self._state is IDLE:
            # call_soon, not now: writes issued in the same loop iteration join the batch.
            self._state = FLUSH_SCHEDULED
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        """Start a batch, when the writer is free (IDLE, or the flush it scheduled)."""
        if self._state is COMMITTING or self._state is CATCHING_UP:
            return
        self._state = IDLE
        if not self._pending:
            return
        loop = asyncio.get_running_loop()
        try:
            raw = self._writer_raw()
        except Exception as error:  # the file cannot be opened: refuse, never leave writes waiting
            self._refuse_pending(self._errors.translate(error))
            return
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            self._retry_when_busy(loop, error)
            return
        self._busy_retries = 0
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        try:
            results = [self._run_job(raw, job) for job in batch]
        except Exception as error:  # a savepoint could not be undone: give up the whole batch
            self._finish(error, batch, [])
            return
        self._state = COMMITTING
        commit = self._commit_thread.submit(raw.execute, "COMMIT")
        self._in_commit = InFlightCommit(commit, batch, results)
        self._overdue = loop.call_later(self.timeout, self._commit_overdue, commit)

        def committed(done: asyncio.Future[Any]) -> None:
            failure(done)  # _committed reads the outcome from `commit` itself
            self._committed(commit)

        asyncio.wrap_future(commit, loop=loop).add_done_callback(committed)

    def _run_job(self, raw: Any, job: WriteJob) -> tuple[bool, Any]:
        assert self._writer is not None
        if job.alone:
            # One statement: SQLite undoes a failed statement by itself and the transaction
            # goes on (a SAVEPOINT and its RELEASE cost ~2 us per write, measured). Should
            # the failure have ended the whole transaction (SQLite may, on a full disk or
            # an I/O error), the batch's earlier writes are gone too: give up the batch.
            try:
                return True, job.fn(self._writer, *job.args)
            except Exception as error:
                if not raw.in_transaction:
                    raise
                return False, self._errors.translate(error)
        raw.execute("SAVEPOINT job")
        try:
            value = job.fn(self._writer, *job.args)
        except Exception as error:  # the job's own failure: undo it alone
            raw.execute("ROLLBACK TO job")
            raw.execute("RELEASE job")
            return False, self._errors.translate(error)
        raw.execute("RELEASE job")
        return True, value

    def _committed(self, commit: concurrent.futures.Future[Any]) -> None:
        if self._overdue is not None:
            self._overdue.cancel()
            self._overdue = None
        in_flight = self._in_commit
        if in_flight is None or in_flight.future is not commit:
            return  # already settled by _adopt
        self._finish(commit.exception(), in_flight.batch, in_flight.results)
        if self._checkpoint is CATCH_UP_DUE:
            self._catch_up()
            return
        self._state = IDLE
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= CHECKPOINT_EVERY:
            self._start_checkpoint()
        if self._pending:
            self._flush()

    def _finish(self, error: BaseException | None, batch: list[WriteJob], results: list[tuple[bool, Any]]) -> None:
        self._in_commit = None
        if error is not None:  # nothing of the batch is written
            log.error("sqlite commit of %d writes failed: %s", len(batch), error)
            with contextlib.suppress(Exception):
                self._writer_raw().execute("ROLLBACK")
            failure = StorageUnavailable(f"the database could not write: {error}")
            results = [(False, failure)] * len(batch)
        for job, (ok, value) in zip(batch, results, strict=True):
            with contextlib.suppress(RuntimeError):  # a future of a loop that has closed
                settle(job.future, ok, value)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self._commit_thread.shutdown(wait=True)
        self._checkpoint_thread.shutdown(wait=True)
        if self._writer is not None:
            driver: Any = self._writer.connection.driver_connection
            with contextlib.suppress(Exception):  # fold the WAL back in for a tidy file
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._reads.close()
        for conn in (self._writer, self._checkpointer):
            if conn is not None:
                conn.close()
        self._writer = self._checkpointer = None
        self.engine.dispose()
