"""The calls of PostgresDatabase whose statements go with the same statements of the other
requests of one turn of the event loop, as one (postgres_groups.py): rows inserted on their
own (the tokens of client credentials grants), and the grouped writes and lookups. Kept
apart from postgres_loop.py, which runs each call on a connection."""

from __future__ import annotations

from functools import partial
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect

from tessera.storage.compiled import Compiled, CompiledInsert
from tessera.storage.grouped import Grouped
from tessera.storage.postgres_groups import StatementGroup, many_inserts

T = TypeVar("T")


class GroupedCalls:
    """Mixed into PostgresDatabase, which gives the statements sent alone and the rows'
    round trips."""

    _dialect: Dialect
    _inserts: dict[CompiledInsert, Grouped[int]]
    _groups: dict[Grouped[Any], StatementGroup[Any]]

    async def fetch_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        raise NotImplementedError

    async def write_one(self, statement: Compiled, params: dict[str, Any]) -> tuple[Any, ...] | None:
        raise NotImplementedError

    async def _read_rows(self, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_rows(self, sql: str, arrays: list[list[Any]]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def insert_one(self, statement: CompiledInsert, params: dict[str, Any]) -> int:
        """One row by a pre-compiled INSERT, without BEGIN and COMMIT, no greenlet: with the
        rows other requests insert by the same statement in this turn of the loop, in one
        multi-row INSERT (postgres_groups.py). The new row's id, once committed."""
        grouped = self._inserts.get(statement)
        if grouped is None:
            grouped = self._inserts[statement] = many_inserts(statement, self._dialect)
        return await self.write_grouped(grouped, params)

    async def write_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        """A write sent with the same writes of the other requests of this turn of the loop,
        as one statement (postgres_groups.py); this request's answer, once committed."""
        return await self._grouped(grouped, params)

    async def fetch_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        """A lookup sent with the same lookups of the other requests of this turn of the
        loop, as one statement (postgres_groups.py); this request's row, or None."""
        return await self._grouped(grouped, params)

    async def _grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        group = self._groups.get(grouped)
        if group is None:
            group = self._groups[grouped] = StatementGroup(
                grouped, self._read_rows if grouped.read else self._write_rows, partial(self._alone, grouped)
            )
        answer: T = await group.run(params)
        return answer

    async def _alone(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        if grouped.read:
            return grouped.answer_alone(await self.fetch_one(grouped.alone, params))
        return grouped.answer_alone(await self.write_one(grouped.alone, params))
