"""PostgreSQL (production, many nodes): each call on a thread of a small pool.

The network round trip dominates, so each call runs on a pool thread that keeps its own
long-lived connection; PostgreSQL itself groups the commits of concurrent transactions.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from tessera.storage.engine import autocommit, create_engine
from tessera.storage.errors import DatabaseErrors, StorageUnavailable

T = TypeVar("T")

PG_POOL_SIZE = 8


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
            conn = autocommit(self.engine)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, transactional: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            conn = self._connection()
        except Exception as error:  # the server cannot be reached at all
            raise self._errors.translate(error)  # noqa: B904 (translate names the cause)
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
