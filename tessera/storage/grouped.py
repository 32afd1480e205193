"""A statement whose concurrent uses may go to the database as one (Grouped): its form for
one request, its form for many, and how each request's answer is read from the rows.
PostgreSQL sends the many-row form (postgres_groups.py, where the design is described);
SQLite, whose writer already shares one commit between a batch's statements, runs the
one-request form (sqlite_writer.py). The stores name one Grouped per hot statement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from tessera.storage.compiled import Compiled

T = TypeVar("T")

# An answer of `Grouped.answers`: this row must be sent again alone.
RUN_ALONE: Any = object()

Rows = list[tuple[Any, ...]]


class Grouped(Generic[T]):
    """A statement whose concurrent uses can go as one. `alone` is the statement for one
    request, `answer_alone` its answer from the statement's first row (None if it has
    none); `sql` the same for many, taking one array per name of `names`; `answers(rows,
    count)` reads each request's answer, in order, from its rows (RUN_ALONE: send that
    request's statement again alone). `read`: it changes nothing, so it may be repeated."""

    def __init__(
        self,
        alone: Compiled,
        names: tuple[str, ...],
        sql: str,
        answers: Callable[[Rows, int], list[T]],
        *,
        answer_alone: Callable[[tuple[Any, ...] | None], T] | None = None,
        read: bool = False,
    ) -> None:
        self.alone = alone
        self.names = names
        self.sql = sql
        self.answers = answers
        self.answer_alone: Callable[[tuple[Any, ...] | None], T] = answer_alone or _first_column
        self.read = read


def _first_column(row: tuple[Any, ...] | None) -> Any:
    return None if row is None else row[0]
