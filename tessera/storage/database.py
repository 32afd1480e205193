"""Running storage functions: how a request's SQL reaches the engine.

Storage functions are plain synchronous functions `fn(conn, *args)` over a SQLAlchemy Core
connection. `Database.read` and `Database.write` run them from async code. Measured on
this kind of machine (docs/benchmarks.md): an fsync costs ~120 us, a cached Core statement
~12 us, a thread hop tens of microseconds. Hence two strategies:

- SQLite (embedded default): sqlite_writer.SQLiteDatabase. Reads inline on the event-loop
  thread; writes group-committed, so that 32 concurrent token requests share one fsync
  instead of queueing for 32, with only the COMMIT off the loop thread.
- PostgreSQL (production, many nodes): postgres_loop.PostgresDatabase. Storage functions
  run on the event loop over asyncpg's connections (through SQLAlchemy's
  greenlet bridge), so a call costs its round trips and no thread hop; rows inserted on
  their own (`insert_one`) by the requests of one turn of the loop go in one multi-row
  INSERT, without BEGIN and COMMIT (postgres_groups.py), and so do code redemptions and
  refresh rotations (`write_grouped`). PostgreSQL itself groups the commits of concurrent
  transactions.

Transaction control (BEGIN, SAVEPOINT, COMMIT) is issued on the driver connection, and
connections run in SQLAlchemy's AUTOCOMMIT mode so that SQLAlchemy never issues its own
(engine.py): the execution strategy owns transaction boundaries, the storage functions own
statements. Either strategy raises storage's own exceptions (errors.py), never the
database's: StorageUnavailable when the database cannot be reached or cannot commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.engine import Engine

from tessera.storage.compiled import Compiled, CompiledInsert
from tessera.storage.engine import create_engine
from tessera.storage.errors import StorageUnavailable
from tessera.storage.sqlite_writer import DEFAULT_TIMEOUT, SQLiteDatabase

if TYPE_CHECKING:
    from tessera.storage.grouped import Grouped
    from tessera.storage.postgres_loop import PostgresDatabase

__all__ = ["Database", "SQLiteDatabase", "StorageUnavailable", "create_engine", "open_database"]

T = TypeVar("T")


class Database(Protocol):
    engine: Engine

    @property
    def dialect(self) -> str: ...

    async def read(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def write(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def fetch_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """A read by a pre-compiled statement: its first row."""
        ...

    async def write_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """A write of one pre-compiled statement, atomic by itself, so that it needs no
        transaction around it: its first row."""
        ...

    async def change_one(self, statement: Compiled, params: dict[str, Any]) -> int:
        """A write of one pre-compiled statement, atomic by itself: the rows it changed."""
        ...

    async def insert_one(self, statement: CompiledInsert, params: dict[str, Any]) -> int:
        """Insert one row, atomic by itself, so that it needs no transaction around it
        (PostgreSQL: one round trip instead of three); the new row's id."""
        ...

    async def write_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        """A write that PostgreSQL sends with the same writes of concurrent requests, as one
        statement (postgres_groups.py); elsewhere `grouped.alone` on its own. This request's
        answer: the first column of the statement's row for it, None without one."""
        ...

    async def fetch_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        """A lookup that PostgreSQL sends with the same lookups of concurrent requests, as
        one statement (postgres_groups.many_lookups); elsewhere `grouped.alone` on its own.
        This request's row, or None."""
        ...

    def usage(self) -> tuple[int, int]:
        """Calls waiting for or holding a connection, and the connections serving them."""
        ...

    async def aclose(self) -> None:
        """Close from async code (the server's shutdown)."""
        ...

    def close(self) -> None:
        """Close from synchronous code, with no event loop running."""
        ...


def open_database(url: str, timeout: float = DEFAULT_TIMEOUT) -> SQLiteDatabase | PostgresDatabase:
    """`timeout`: seconds a database call may take before it raises StorageUnavailable
    (TESSERA_DATABASE_TIMEOUT; docs/reliability.md)."""
    if url.startswith("sqlite"):
        return SQLiteDatabase(url, timeout=timeout)
    # Imported here: asyncpg and SQLAlchemy's asyncio layer (which loads its ORM) are a
    # tenth of a second that an SQLite server or CLI command has no use for.
    from tessera.storage.postgres_loop import PostgresDatabase

    return PostgresDatabase(url, timeout=timeout)
