"""Running storage functions: how a request's SQL reaches the engine.

Storage functions are plain synchronous functions `fn(conn, *args)` over a SQLAlchemy Core
connection. `Database.read` and `Database.write` run them from async code. Measured on
this kind of machine (docs/benchmarks.md): an fsync costs ~120 us, a cached Core statement
~12 us, a thread hop tens of microseconds. Hence two strategies:

SQLite (embedded default). Reads run inline on the event-loop thread on their own
connection: a WAL reader never waits for the writer, and an indexed lookup costs less
than a thread hop. Writes are group-committed: every write waiting runs in its own
SAVEPOINT inside one BEGIN IMMEDIATE ... COMMIT, and only the COMMIT leaves the loop
thread. With synchronous=FULL every answered write is on disk (it survives a crash of
the process and of the machine), yet 32 concurrent token requests share one fsync
instead of queueing for 32.

PostgreSQL (production, many nodes). The network round trip dominates, so each call
runs on a thread of a small pool with its own connection; PostgreSQL itself groups the
commits of concurrent transactions.

Transaction control (BEGIN, SAVEPOINT, COMMIT) is issued on the driver connection, and
connections run in SQLAlchemy's AUTOCOMMIT mode so that SQLAlchemy never issues its own:
the execution strategy owns transaction boundaries, the storage functions own statements.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from tessera.storage.errors import DatabaseErrors, StorageUnavailable

__all__ = ["Database", "PooledDatabase", "SQLiteDatabase", "StorageUnavailable", "create_engine", "open_database"]

log = logging.getLogger("tessera.storage")

T = TypeVar("T")

MAX_BATCH = 256
# Commits between WAL checkpoints (see SQLiteDatabase._checkpoint).
CHECKPOINT_EVERY = 200
BUSY_RETRIES = 2000  # ~ 40 s of backing off before a write is refused
PG_POOL_SIZE = 8


class Database(Protocol):
    engine: Engine

    @property
    def dialect(self) -> str: ...

    async def read(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def write(self, fn: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None: the sqlite3 module must not open transactions behind our back.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, poolclass=NullPool)


def _autocommit(engine: Engine) -> Connection:
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


class _WriteJob:
    __slots__ = ("args", "fn", "future")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.args = args
        self.future = future


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return  # the caller went away; the write stands all the same
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class SQLiteDatabase:
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

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self._errors = DatabaseErrors(self.engine.dialect.dbapi)
        self._reader: Connection | None = None
        self._writer: Connection | None = None
        self._reader_lock = threading.Lock()
        self._pending: list[_WriteJob] = []
        self._committing = False
        self._flush_scheduled = False
        # The loop the batching state belongs to, and the batch being committed, so that a
        # new loop (the CLI, tests: one asyncio.run after another) can take over cleanly.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_commit: tuple[concurrent.futures.Future[Any], list[_WriteJob], list[tuple[bool, Any]]] | None = None
        self._busy_retries = 0
        self._commit_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-sqlite-commit")
        self._checkpoint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-sqlite-checkpoint")
        self._checkpointer: Any = None
        self._commits_since_checkpoint = 0
        self._checkpointing: concurrent.futures.Future[Any] | None = None
        self._catch_up_due = False

    def _reader_connection(self) -> Connection:
        if self._reader is None:
            self._reader = _autocommit(self.engine)
        return self._reader

    def _writer_raw(self) -> Any:
        if self._writer is None:
            self._writer = _autocommit(self.engine)
            raw: Any = self._writer.connection.driver_connection
            # Never wait inside sqlite for another process's write lock: that would block
            # the event loop. A busy database is retried from the loop instead.
            raw.execute("PRAGMA busy_timeout=0")
            # No checkpoint inside a COMMIT: it copies the WAL into the database and fsyncs,
            # stalling every write queued behind it (measured: token p99 at 8x p50).
            # _checkpoint runs them beside the writer instead.
            raw.execute("PRAGMA wal_autocheckpoint=0")
        return self._writer.connection.driver_connection

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        # Inline on the loop thread; the lock only matters when several threads share the
        # Database (tests, CLI), and costs ~0.1 us uncontended.
        with self._reader_lock:
            try:
                return fn(self._reader_connection(), *args)
            except Exception as error:
                raise self._errors.translate(error)  # noqa: B904 (translate names the cause)

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Take the write path over for a new event loop, finishing what the last one left:
        a commit still in flight is waited for and its batch settled; a scheduled flush
        that will never run is forgotten (its writes join the next batch)."""
        if self._in_commit is not None:
            done, batch, results = self._in_commit
            error = done.exception()
            self._finish(error, batch, results)
        self._committing = False
        self._flush_scheduled = False
        self._catch_up_due = False
        self._loop = loop

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(_WriteJob(fn, args, future))
        if not self._committing and not self._flush_scheduled:
            # call_soon, not now: writes issued in the same loop iteration join the batch.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._committing or not self._pending:
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
        self._committing = True
        commit = self._commit_thread.submit(raw.execute, "COMMIT")
        self._in_commit = (commit, batch, results)
        asyncio.wrap_future(commit, loop=loop).add_done_callback(lambda done: self._committed(commit))

    def _retry_when_busy(self, loop: asyncio.AbstractEventLoop, error: sqlite3.OperationalError) -> None:
        """Another process holds the write lock (several workers on one file): retry soon."""
        self._busy_retries += 1
        if self._busy_retries > BUSY_RETRIES:
            self._refuse_pending(StorageUnavailable(f"the database stayed locked: {error}"))
            self._busy_retries = 0
            return
        self._flush_scheduled = True
        loop.call_later(min(0.0005 * self._busy_retries, 0.02), self._flush)

    def _refuse_pending(self, failure: Exception) -> None:
        batch, self._pending = self._pending, []
        for job in batch:
            _settle(job.future, False, failure)

    def _run_job(self, raw: Any, job: _WriteJob) -> tuple[bool, Any]:
        assert self._writer is not None
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
        if self._in_commit is None or self._in_commit[0] is not commit:
            return  # already settled by _adopt
        _done, batch, results = self._in_commit
        self._finish(commit.exception(), batch, results)
        self._committing = False
        if self._catch_up_due:
            self._catch_up()
            return
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint()
        if self._pending:
            self._flush()

    def _checkpoint(self) -> None:
        """Keep the WAL small, in two steps, so that commits never pay for it.

        1. A PASSIVE checkpoint on its own connection and thread copies the bulk of the WAL
           into the database beside the writer, blocking neither it nor readers.
        2. It can never finish while commits keep appending, and SQLite only starts the WAL
           over once a checkpoint has copied every frame: without step 2 the WAL grew by
           ~10 KB per token under load (measured: 2.2 GB after a few benchmark runs). So
           after step 1 the writer holds its next batch while a second PASSIVE checkpoint,
           on the writer's connection, copies only the frames that arrived during step 1;
           the next BEGIN then restarts the WAL from its first frame.
        """
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._commits_since_checkpoint = 0
        loop = asyncio.get_running_loop()

        def run() -> None:
            if self._checkpointer is None:
                self._checkpointer = _autocommit(self.engine)
            driver: Any = self._checkpointer.connection.driver_connection
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        def bulk_done(_future: asyncio.Future[Any]) -> None:
            if loop is not self._loop:
                return
            if self._committing or self._flush_scheduled:
                self._catch_up_due = True  # after the commit in flight (see _committed)
            else:
                self._catch_up()

        self._checkpointing = self._checkpoint_thread.submit(run)
        asyncio.wrap_future(self._checkpointing, loop=loop).add_done_callback(bulk_done)

    def _catch_up(self) -> None:
        """Step 2 of _checkpoint: no batch starts until it is done (`_committing`)."""
        self._catch_up_due = False
        self._committing = True
        loop = asyncio.get_running_loop()
        raw = self._writer_raw()

        def run() -> None:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        def done(_future: asyncio.Future[Any]) -> None:
            if loop is not self._loop:
                return
            self._committing = False
            if self._pending:
                self._flush()

        asyncio.wrap_future(self._commit_thread.submit(run), loop=loop).add_done_callback(done)

    def _finish(self, error: BaseException | None, batch: list[_WriteJob], results: list[tuple[bool, Any]]) -> None:
        self._in_commit = None
        if error is not None:  # nothing of the batch is written
            log.error("sqlite commit of %d writes failed: %s", len(batch), error)
            with contextlib.suppress(Exception):
                self._writer_raw().execute("ROLLBACK")
            failure = StorageUnavailable(f"the database could not write: {error}")
            results = [(False, failure)] * len(batch)
        for job, (ok, value) in zip(batch, results, strict=True):
            with contextlib.suppress(RuntimeError):  # a future of a loop that has closed
                _settle(job.future, ok, value)

    def close(self) -> None:
        self._commit_thread.shutdown(wait=True)
        self._checkpoint_thread.shutdown(wait=True)
        if self._writer is not None:
            driver: Any = self._writer.connection.driver_connection
            with contextlib.suppress(Exception):  # fold the WAL back in for a tidy file
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for conn in (self._reader, self._writer, self._checkpointer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = self._checkpointer = None
        self.engine.dispose()


class PooledDatabase:
    """Each call on a pool thread holding its own long-lived connection (PostgreSQL)."""

    dialect = "postgresql"

    def __init__(self, url: str, size: int = PG_POOL_SIZE) -> None:
        self.engine = create_engine(url)
        self._errors = DatabaseErrors(self.engine.dialect.dbapi)
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="tessera-pg")

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = _autocommit(self.engine)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, transactional: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._connection()
        driver: Any = conn.connection.driver_connection
        try:
            if not transactional:
                return fn(conn, *args)
            with driver.transaction():
                return fn(conn, *args)
        except Exception as error:
            translated = self._errors.translate(error)
            if isinstance(translated, StorageUnavailable) and (conn.invalidated or driver.closed):
                self._local.conn = None
            raise translated  # noqa: B904 (translate names the cause)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, False, fn, args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, True, fn, args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self.engine.dispose()


def open_database(url: str) -> SQLiteDatabase | PooledDatabase:
    if url.startswith("sqlite"):
        return SQLiteDatabase(url)
    return PooledDatabase(url)
