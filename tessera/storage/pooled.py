"""PostgreSQL (production, many nodes): each call on a thread of a small pool.

The network round trip dominates, so each call runs on a pool thread that keeps its own
long-lived connection; PostgreSQL itself groups the commits of concurrent transactions.

Faults (docs/reliability.md, INTERFACE.md section 9: "requests answer 503 with Retry-After
within TESSERA_DATABASE_TIMEOUT seconds, never hang, and service resumes by itself"):

- Every call is bounded by the timeout: waiting for a pool thread, connecting
  (connect_timeout) and each statement or lock wait on the server (statement_timeout,
  lock_timeout, engine.py). A call past it raises StorageUnavailable; the server cancels its
  statement at the same moment, so the thread and its connection come back clean (the
  transaction rolled back) for the next caller.
- A connection the server has dropped (a restart, pg_terminate_backend, a failover) is
  found out at its next use and thrown away. Nothing was sent on it yet, so the call is run
  once more on a fresh connection: a read, and a write whose BEGIN failed, are safe to
  repeat. Only if that fails too does the caller get StorageUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from tessera.storage.engine import autocommit, create_engine
from tessera.storage.errors import DatabaseErrors, StorageUnavailable

T = TypeVar("T")

PG_POOL_SIZE = 8
DEFAULT_TIMEOUT = 5.0  # seconds; TESSERA_DATABASE_TIMEOUT


class _StaleConnection(Exception):
    """The connection was found dead before anything of the call reached the server."""


class PooledDatabase:
    """Each call on a pool thread holding its own long-lived connection (PostgreSQL)."""

    dialect = "postgresql"

    def __init__(self, url: str, size: int = PG_POOL_SIZE, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = create_engine(url, timeout=timeout)
        self.size = size
        self.timeout = timeout
        self._errors = DatabaseErrors(self.engine.dialect.dbapi)
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="tessera-pg")
        # Calls waiting for or holding a pool thread now (metrics: database pool use). Only
        # the event-loop thread changes it, so it needs no lock.
        self.in_flight = 0

    def _connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = autocommit(self.engine)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _forget(self, conn: Connection) -> None:
        """Throw a dead connection away; the thread's next call opens a fresh one."""
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        with contextlib.suppress(Exception):
            conn.invalidate()

    def _run(self, transactional: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return self._attempt(transactional, fn, args)
        except _StaleConnection:
            return self._attempt(transactional, fn, args)  # once, on a fresh connection

    def _attempt(self, transactional: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        fresh = getattr(self._local, "conn", None) is None
        try:
            conn = self._connection()
        except Exception as error:  # the server cannot be reached at all
            raise self._errors.translate(error)  # noqa: B904 (translate names the cause)
        driver: Any = conn.connection.driver_connection
        started = False  # a read changes nothing: repeating it is always safe
        try:
            if not transactional:
                return fn(conn, *args)
            with driver.transaction():
                started = True  # BEGIN went through: the write may reach COMMIT, never repeat it
                return fn(conn, *args)
        except Exception as error:
            translated = self._errors.translate(error)
            if isinstance(translated, StorageUnavailable) and _broken(conn, driver):
                self._forget(conn)
                if not fresh and not started:
                    raise _StaleConnection from error
            raise translated  # noqa: B904 (translate names the cause)

    async def _call(self, transactional: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        running = asyncio.get_running_loop().run_in_executor(self._pool, self._run, transactional, fn, args)
        self.in_flight += 1
        try:
            return await asyncio.wait_for(running, self.timeout)
        except TimeoutError:
            # A call still queued for a thread never runs (its future is cancelled); one
            # running is cancelled by the server's statement_timeout at about this moment.
            raise StorageUnavailable(f"the database did not answer within {self.timeout:g} s") from None
        finally:
            self.in_flight -= 1

    def usage(self) -> tuple[int, int]:
        """Calls waiting for or holding a connection, and the connections (metrics)."""
        return self.in_flight, self.size

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(False, fn, args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(True, fn, args)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self.engine.dispose()


def _broken(conn: Connection, driver: Any) -> bool:
    return bool(conn.invalidated or driver.closed or driver.broken)
