"""PostgreSQL (production, many nodes): storage functions run on the event loop, over
asyncpg's connections; no thread hops.

Why (docs/architecture.md, "PostgreSQL on the event loop", has the measurements): with a
pool of threads each holding a synchronous connection, a token cost 2.7 times the server
CPU it costs on SQLite. The waiting itself was not the cost: handing each call to a thread
and its answer back (futex wake-ups, the loop's self-pipe, the threads contending for the
GIL) was, and so was BEGIN and COMMIT, each a round trip of its own. Here the synchronous
storage functions (`fn(conn, *args)`, shared with SQLite) run inside a greenlet through
SQLAlchemy's asyncio bridge: each statement suspends the greenlet until the connection
has the answer, and the loop serves other requests meanwhile. Rows inserted on their own
(`insert_one`: the tokens of client credentials grants) go straight to the driver, without
BEGIN and COMMIT, those of one turn of the loop in one multi-row INSERT
(postgres_groups.py): one round trip, atomic by itself. asyncpg prepares every
statement it is given and keeps it per connection, so the hot ones are parsed and planned
once.

Why asyncpg rather than psycopg's asynchronous connections (which served here first): under
uvloop, 32 callers on 8 connections, an INSERT ... RETURNING cost 34-43 us of CPU through
asyncpg and 74-79 us through psycopg, which registers and unregisters its socket with the
loop on every wait; asyncpg's protocol stays registered and parses in compiled code.
Migrations and the CLI's synchronous work keep psycopg (engine.py).

Faults (docs/reliability.md; INTERFACE.md section 9: requests answer 503 with Retry-After
within TESSERA_DATABASE_TIMEOUT seconds, never hang, and service resumes by itself):

- Every call is bounded by the timeout, waiting for a connection included; the server
  also cancels a statement or a lock wait past it (statement_timeout, lock_timeout,
  engine.py). A call past it raises StorageUnavailable and its connection, interrupted
  mid-statement, is thrown away.
- A connection the server has hung up on (a restart, a failover, pg_terminate_backend) is
  found out before its next use, as it has something to read while idle, and thrown away.
  One that fails in use is thrown away too; if the call is safe to repeat (a read, a write
  whose BEGIN failed, or a statement the server answered by ending the session, which
  commits nothing), it runs once more on a fresh connection. Only if that fails too does
  the caller get StorageUnavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tessera.storage.compiled import Compiled, CompiledInsert, fetchone_async, rowcount_async, rows_async
from tessera.storage.engine import create_engine, server_timeouts
from tessera.storage.errors import StorageUnavailable
from tessera.storage.grouped import Grouped
from tessera.storage.postgres_connections import (
    StaleConnection,
    asyncpg_errors,
    broken,
    close_all,
    cut_at_deadline,
    discard,
    driver_of,
    ended_by_server,
    hung_up,
    libpq_url,
    refused_unsent,
    still_usable,
)
from tessera.storage.postgres_grouped_calls import GroupedCalls
from tessera.storage.postgres_groups import StatementGroup

T = TypeVar("T")

POOL_SIZE = 8
DEFAULT_TIMEOUT = 5.0  # seconds; TESSERA_DATABASE_TIMEOUT

_READ, _WRITE, _ONE = "read", "write", "one"


class PostgresDatabase(GroupedCalls):
    """Storage functions on the event loop over up to `size` asynchronous connections."""

    dialect = "postgresql"

    def __init__(self, url: str, size: int = POOL_SIZE, timeout: float = DEFAULT_TIMEOUT) -> None:
        # The synchronous engine compiles statements and serves what runs outside a loop
        # (migrations); serving goes through the asynchronous one.
        self.engine = create_engine(url, timeout=timeout)
        # asyncpg reads the URL itself, libpq's query parameters included (sslmode,
        # sslrootcert, ...), which SQLAlchemy would hand it as arguments it does not take.
        # The server settings bound each statement and lock wait by the timeout.
        dsn = libpq_url(url)
        self._async_engine: AsyncEngine = create_async_engine(
            "postgresql+asyncpg://",
            poolclass=NullPool,
            async_creator=lambda: asyncpg.connect(dsn, timeout=timeout, server_settings=server_timeouts(timeout)),
        )
        # Hot statements are compiled for the dialect that sends them ($1 parameters).
        self._dialect = self._async_engine.dialect
        self.size = size
        self.timeout = timeout
        self._errors = asyncpg_errors(self._dialect.dbapi)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[AsyncConnection] = []
        self._slots = asyncio.Semaphore(size)
        self._cold = True  # no connection opened yet on this loop
        self._lifetime: AsyncIterator[None] | None = None
        # Calls waiting for or holding a connection now (metrics: database pool use).
        self.in_flight = 0
        self._inserts: dict[CompiledInsert, Grouped[int]] = {}
        self._groups: dict[Grouped[Any], StatementGroup[Any]] = {}

    async def _bind(self) -> None:
        """Connections belong to the loop that opened them: asyncpg's cannot even be closed
        from another. A new loop (the CLI runs one per command, tests one per test) starts
        from none, and the connections of each loop are closed when it shuts down
        (`_loop_lifetime`), while it can still close them."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        stale, self._idle = self._idle, []
        self._slots = asyncio.Semaphore(self.size)
        self._loop = loop
        self._cold = True
        await close_all(stale)  # only those of a loop that ended without shutting down
        self._lifetime = self._loop_lifetime(loop)
        await anext(self._lifetime)

    async def _loop_lifetime(self, loop: asyncio.AbstractEventLoop) -> AsyncIterator[None]:
        """An asynchronous generator that waits for its loop's end. A loop shutting down
        (asyncio.run, uvicorn and test runners all call shutdown_asyncgens) closes the
        generators started on it, so `finally` runs on the loop, before it closes."""
        try:
            yield
        finally:
            if self._loop is loop:
                stale, self._idle, self._loop = self._idle, [], None
                await close_all(stale)

    async def _warm(self) -> None:
        """Open the connections at once, before the first call takes one. Opened one by one
        on demand, the first calls of a burst would not be served alike: one finding an
        idle connection would finish while the next still waited for its own to open, and
        two requests racing for one code would not race at all (the second would find the
        code used, a replay). A connection that cannot be opened now is opened later."""
        self._cold = False
        opened = await asyncio.gather(
            *(self._open() for _ in range(self.size - len(self._idle))), return_exceptions=True
        )
        self._idle.extend(conn for conn in opened if isinstance(conn, AsyncConnection))

    async def _open(self) -> AsyncConnection:
        try:
            conn = await self._async_engine.connect()
            return await conn.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as error:  # the server cannot be reached at all
            raise self._errors.translate(error)  # noqa: B904 (translate names the cause)

    async def _take(self) -> AsyncConnection | None:
        """An idle connection the server has not hung up on, or None."""
        while self._idle:
            conn = self._idle.pop()
            if not hung_up(conn):
                return conn
            await discard(conn)
        return None

    async def _attempt(
        self,
        mode: str,
        run: Callable[[AsyncConnection], Awaitable[T]],
        deadline: float | None,
        *,
        reuse: bool = True,
    ) -> T:
        """`deadline` (loop time), for a call that runs in SQLAlchemy's greenlet: see cut_at_deadline."""
        conn = await self._take() if reuse else None
        fresh = conn is None
        if conn is None:
            conn = await self._open()
        started = mode != _WRITE  # a read changes nothing; a single statement is whole or nothing
        cut: list[bool] = []
        cutter = None if deadline is None else asyncio.get_running_loop().call_at(deadline, cut_at_deadline, conn, cut)
        try:
            if mode != _WRITE:
                result = await run(conn)
            else:
                started = False
                async with driver_of(conn).transaction():
                    started = True  # BEGIN went through: the write may reach COMMIT, never repeat it
                    result = await run(conn)
        except asyncio.CancelledError:
            await discard(conn)  # interrupted mid-statement: its state is unknown
            raise
        except Exception as error:
            if cut:  # the deadline cut the connection: that is the whole story
                await discard(conn)
                raise StorageUnavailable(f"the database did not answer within {self.timeout:g} s") from None
            translated = self._errors.translate(error)
            unsent = refused_unsent(error)
            if unsent:  # the server was ending the session: unavailable, like a cut connection
                translated = StorageUnavailable("the database ended the connection")
                translated.__cause__ = error
            if still_usable(conn, error, translated):
                self._idle.append(conn)
                raise translated  # noqa: B904 (translate names the cause)
            # A connection that died (or whose session the server ended) is repeated once
            # on a fresh one when nothing of the call can have committed.
            ended = unsent or ended_by_server(error)
            dead = isinstance(translated, StorageUnavailable) and (ended or broken(conn))
            await discard(conn)
            if dead and not fresh and (mode == _READ or not started or ended):
                raise StaleConnection from error
            raise translated  # noqa: B904 (translate names the cause)
        finally:
            if cutter is not None:
                cutter.cancel()
        self._idle.append(conn)
        return result

    async def _call(self, mode: str, run: Callable[[AsyncConnection], Awaitable[T]], *, in_greenlet: bool = False) -> T:
        """`in_greenlet`: `run` goes through SQLAlchemy's greenlet (run_sync), and so needs
        its connection cut at the deadline (postgres_connections.cut_at_deadline)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            await self._bind()
        self.in_flight += 1
        deadline = loop.time() + self.timeout
        cut_at = deadline if in_greenlet else None
        try:
            async with asyncio.timeout_at(deadline), self._slots:
                if self._cold:
                    await self._warm()
                try:
                    return await self._attempt(mode, run, cut_at)
                except StaleConnection:
                    return await self._attempt(mode, run, cut_at, reuse=False)  # once, on a fresh connection
        except TimeoutError:
            raise StorageUnavailable(f"the database did not answer within {self.timeout:g} s") from None
        finally:
            self.in_flight -= 1

    def usage(self) -> tuple[int, int]:
        """Calls waiting for or holding a connection, and the connections (metrics)."""
        return self.in_flight, self.size

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(_READ, lambda conn: conn.run_sync(fn, *args), in_greenlet=True)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(_WRITE, lambda conn: conn.run_sync(fn, *args), in_greenlet=True)

    async def fetch_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """A read by a pre-compiled statement, sent straight to the driver: its first row."""
        sql, values = statement.bound(self._dialect, params)
        return await self._call(_READ, lambda conn: fetchone_async(driver_of(conn), sql, values))

    async def write_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """One pre-compiled statement, atomic by itself, sent straight to the driver: no
        BEGIN and COMMIT, no greenlet. Its first row."""
        sql, values = statement.bound(self._dialect, params)
        return await self._call(_ONE, lambda conn: fetchone_async(driver_of(conn), sql, values))

    async def change_one(self, statement: Compiled, params: dict[str, Any]) -> int:
        """One pre-compiled statement, atomic by itself, sent straight to the driver: the
        number of rows it inserted, updated or deleted."""
        sql, values = statement.bound(self._dialect, params)
        return await self._call(_ONE, lambda conn: rowcount_async(driver_of(conn), sql, values))

    async def _read_rows(self, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
        return await self._call(_READ, lambda conn: rows_async(driver_of(conn), sql, arrays))

    async def _write_rows(self, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
        return await self._call(_ONE, lambda conn: rows_async(driver_of(conn), sql, arrays))

    async def aclose(self) -> None:
        stale, self._idle = self._idle, []
        await close_all(stale)
        self.engine.dispose()

    def close(self) -> None:
        """From synchronous code with no loop running (with one running, use aclose)."""
        stale, self._idle = self._idle, []
        if stale:
            asyncio.run(close_all(stale))
        self.engine.dispose()
