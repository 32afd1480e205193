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
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable


class Compiled:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def _form(self, conn: Connection) -> tuple[str, tuple[str, ...] | None]:
        dialect = conn.dialect
        form = self._forms.get(dialect.name)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup) if compiled.positional else None
            form = self._forms[dialect.name] = (str(compiled), order)
        return form

    def _run(self, conn: Connection, params: dict[str, Any]) -> Any:
        sql, order = self._form(conn)
        driver: Any = conn.connection.driver_connection
        return driver.execute(sql, params if order is None else [params[name] for name in order])

    def fetchone(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row as a tuple. The cursor is closed before returning: an open SQLite
        statement would keep the write batch from releasing its savepoint."""
        cursor = self._run(conn, params)
        try:
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def rowcount(self, conn: Connection, params: dict[str, Any]) -> int:
        """The number of rows an UPDATE or DELETE changed."""
        cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


class CompiledInsert:
    """An INSERT that answers the new row's id: through cursor.lastrowid on SQLite, where
    RETURNING measured ~20 us more per row, and through RETURNING elsewhere."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        values = table.insert().values({name: bindparam(name) for name in columns})
        self._plain = Compiled(values)
        self._returning = Compiled(values.returning(table.c.id))

    def execute(self, conn: Connection, params: dict[str, Any]) -> int:
        if conn.dialect.name == "sqlite":
            cursor = self._plain._run(conn, params)
            try:
                return int(cursor.lastrowid)
            finally:
                cursor.close()
        row = self._returning.fetchone(conn, params)
        assert row is not None
        return int(row[0])
