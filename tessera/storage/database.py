"""Running storage functions: how a request's SQL reaches the engine.

Storage functions are plain synchronous functions `fn(conn, *args)` over a SQLAlchemy Core
connection. `Database.read` and `Database.write` run them from async code. Measured on
this kind of machine (docs/benchmarks.md): an fsync costs ~120 us, a cached Core statement
~12 us, a thread hop tens of microseconds. Hence two strategies:

SQLite (embedded default). Reads run inline on the event-loop thread on their own
connection: a WAL reader never waits for the writer, and an indexed lookup costs less
than a thread hop. Writes go to one writer thread that group-commits: it takes every write
waiting, runs each in its own SAVEPOINT inside one BEGIN IMMEDIATE ... COMMIT, and then
answers them all. With synchronous=FULL every answered write is on disk (it survives a
crash of the process and of the machine), yet 32 concurrent token requests share one
fsync instead of queueing for 32.

PostgreSQL (production, many nodes). The network round trip dominates, so each call
runs on a thread of a small pool with its own connection; PostgreSQL itself groups the
commits of concurrent transactions.

Transaction control (BEGIN, SAVEPOINT, COMMIT) is issued on the driver connection, and
connections run in SQLAlchemy's AUTOCOMMIT mode so that SQLAlchemy never issues its own:
the execution strategy owns transaction boundaries, the storage functions own statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

log = logging.getLogger("tessera.storage")

T = TypeVar("T")
StorageFn = Callable[..., T]

MAX_BATCH = 256
PG_POOL_SIZE = 8


class StorageUnavailable(Exception):
    """The database could not be reached or could not commit; the caller may retry."""


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
    __slots__ = ("args", "fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        future: asyncio.Future[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.fn = fn
        self.args = args
        self.future = future
        self.loop = loop


def _settle(outcomes: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in outcomes:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class SQLiteDatabase:
    """Inline reads, group-committed writes (see the module docstring)."""

    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self._reader: Connection | None = None
        self._reader_lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_WriteJob | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_loop, name="tessera-sqlite-writer", daemon=True)
        self._writer.start()

    def _reader_connection(self) -> Connection:
        if self._reader is None:
            self._reader = _autocommit(self.engine)
        return self._reader

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        # Inline on the loop thread; the lock only matters when several threads share the
        # Database (tests, CLI), and costs ~0.1 us uncontended.
        with self._reader_lock:
            return fn(self._reader_connection(), *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_WriteJob(fn, args, future, loop))
        return await future

    def _take_batch(self, first: _WriteJob) -> tuple[list[_WriteJob], bool]:
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
        return batch, False

    def _run_batch(self, conn: Connection, raw: Any, batch: list[_WriteJob]) -> list[tuple[bool, Any]]:
        results: list[tuple[bool, Any]] = []
        try:
            raw.execute("BEGIN IMMEDIATE")
            for job in batch:
                raw.execute("SAVEPOINT job")
                try:
                    results.append((True, job.fn(conn, *job.args)))
                    raw.execute("RELEASE job")
                except Exception as error:  # the job's own failure: undo it alone
                    raw.execute("ROLLBACK TO job")
                    raw.execute("RELEASE job")
                    results.append((False, error))
            raw.execute("COMMIT")
        except Exception as error:  # BEGIN or COMMIT failed: nothing of the batch is written
            log.error("sqlite batch of %d writes failed: %s", len(batch), error)
            with contextlib.suppress(Exception):
                raw.execute("ROLLBACK")
            failure = StorageUnavailable(f"the database could not commit: {error}")
            results = [(False, failure)] * len(batch)
        return results

    def _write_loop(self) -> None:
        conn = _autocommit(self.engine)
        raw = conn.connection.driver_connection
        stop = False
        while not stop:
            first = self._jobs.get()
            if first is None:
                break
            batch, stop = self._take_batch(first)
            results = self._run_batch(conn, raw, batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
            for job, (ok, value) in zip(batch, results, strict=False):
                by_loop.setdefault(job.loop, []).append((job.future, ok, value))
            for loop, outcomes in by_loop.items():
                # A closed loop raises RuntimeError: nobody waits for those answers any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, outcomes)
        conn.close()

    def close(self) -> None:
        if self._writer.is_alive():
            self._jobs.put(None)
            self._writer.join(timeout=30)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.engine.dispose()


class PooledDatabase:
    """Each call on a pool thread holding its own long-lived connection (PostgreSQL)."""

    dialect = "postgresql"

    def __init__(self, url: str, size: int = PG_POOL_SIZE) -> None:
        self.engine = create_engine(url)
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
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
            if conn.invalidated or driver.closed:
                self._local.conn = None
            raise StorageUnavailable(f"the database could not be reached: {error.orig}") from error

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
