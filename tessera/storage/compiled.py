"""Hot statements: written in SQLAlchemy Core, compiled once per dialect, and executed on
the driver's cursor.

SQLAlchemy's per-execution work (parameter processing, result metadata, context objects)
measured ~17 us per statement on this machine, a fifth of a token request's CPU
(docs/benchmarks.md). The few statements on every request's path therefore skip it: the
SQL is still SQLAlchemy's, for each dialect, but parameters go in as plain values and
rows come back as tuples in the order of the selected columns. Only statements whose
parameters need no type processing (ints, floats, str, bytes, None) may use this.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.util import await_only


class Compiled:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # By dialect and driver: PostgreSQL's synchronous psycopg and the serving path's
        # asyncpg write their parameters differently (%(name)s, $1).
        self._forms: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}

    def _form(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
        key = (dialect.name, dialect.driver)
        form = self._forms.get(key)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup) if compiled.positional else None
            form = self._forms[key] = (str(compiled), order)
        return form

    def bound(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, Any]:
        """The SQL for the dialect and the parameters in the form its driver takes."""
        sql, order = self._form(dialect)
        return sql, params if order is None else [params[name] for name in order]

    def _run(self, conn: Connection, params: dict[str, Any]) -> Any:
        driver: Any = conn.connection.driver_connection
        return driver.execute(*self.bound(conn.dialect, params))

    def fetchone(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row as a tuple. The cursor is closed before returning: an open SQLite
        statement would keep the write batch from releasing its savepoint."""
        if conn.dialect.is_async:
            # PostgreSQL on the event loop (postgres_loop.py): inside the greenlet of the
            # storage call, wait for asyncpg's coroutine as SQLAlchemy's own statements do.
            driver: Any = conn.connection.driver_connection
            return await_only(fetchone_async(driver, *self.bound(conn.dialect, params)))
        cursor = self._run(conn, params)
        try:
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
        """The number of rows an UPDATE or DELETE changed."""
        if conn.dialect.is_async:  # see fetchone
            driver: Any = conn.connection.driver_connection
            return int(await_only(rowcount_async(driver, *self.bound(conn.dialect, params))))
        cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


class CompiledInsert:
    """An INSERT that answers the new row's id: through cursor.lastrowid on SQLite, where
    RETURNING measured ~20 us more per row, and through RETURNING elsewhere (`returning`,
    which Database.insert_one can send on its own)."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        self.table = table
        self.columns = columns
        values = table.insert().values({name: bindparam(name) for name in columns})
        self._plain = Compiled(values)
        self.returning = Compiled(values.returning(table.c.id))

    def execute(self, conn: Connection, params: dict[str, Any]) -> int:
        if conn.dialect.name == "sqlite":
            cursor = self._plain._run(conn, params)
            try:
                return int(cursor.lastrowid)
            finally:
                cursor.close()
        row = self.returning.fetchone(conn, params)
        assert row is not None
        return int(row[0])


async def fetchone_async(driver: Any, sql: str, params: Any) -> tuple[Any, ...] | None:
    """On an asyncpg connection, which prepares each statement once and keeps it (its
    statement cache): the first row as a tuple."""
    row = await driver.fetchrow(sql, *params)
    return None if row is None else tuple(row)


async def rows_async(driver: Any, sql: str, params: Any) -> list[tuple[Any, ...]]:
    """On an asyncpg connection: every row, as tuples."""
    return [tuple(row) for row in await driver.fetch(sql, *params)]


async def rowcount_async(driver: Any, sql: str, params: Any) -> int:
    """On an asyncpg connection: the rows the statement changed, from its command tag
    ("UPDATE 3", "DELETE 0")."""
    tag = await driver.execute(sql, *params)
    return int(tag.rsplit(" ", 1)[-1])
