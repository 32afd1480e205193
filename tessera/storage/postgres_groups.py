"""PostgreSQL: the hot statements of concurrent requests sent together, one statement per
turn of the event loop.

Alone, each token written cost a round trip and a commit of its own: on one core, the
node's part of a round trip (asyncpg, the pool, the bound on the call) was a third of a
token's CPU, and each commit a WAL flush PostgreSQL had to make. Here the statements of
one kind that arrive in the same turn of the loop (32 concurrent requests mostly do) go
as one, whose parameters are arrays, one per column, unnested into rows:

    ... FROM unnest($1::type[], $2::type[], ...) WITH ORDINALITY AS input (..., n)

one round trip (and for writes one commit) for all of them, as SQLite's writer shares one
fsync between a batch. A write is sent without BEGIN, atomic by itself, and every request
is answered only after it has committed: nothing is answered before it is durable. The
statement's text is the same for any number of rows, so asyncpg prepares it once per
connection.

Four kinds (the writes' statements are in postgres_writes.py):
- a client credentials token: a multi-row INSERT (`many_rows_sql`). The rows are inserted
  in the order of ORDER BY n, so the identity column numbers them in that order: the ids
  RETURNING gives, sorted, are the requests' in order (SQLAlchemy's insertmanyvalues
  relies on the same);
- a code redemption and a refresh rotation: the statements of postgres_writes.py for many
  rows, answering each row's `n` with its outcome. A rotation takes its advisory locks
  without waiting (pg_try_advisory_xact_lock): one whose locks are held (a revocation of
  its family, user or client under way) is sent again alone, by the single-row statement
  that waits for them, so a batch never waits for another transaction's locks and cannot
  be part of a lock cycle;
- the lookups by digest on every token request (a code, a refresh token, an access token
  not remembered): one SELECT joining the digests to their rows (`many_lookups`).

Failures: if a write is refused for a row's sake (a client deleted meanwhile, so a foreign
key fails), every row is sent again alone, so only that request fails, as it would have on
its own. If the database is unavailable, every request of the batch hears so
(StorageUnavailable, 503), as each would have on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from tessera.storage.compiled import Compiled, CompiledInsert
from tessera.storage.errors import StorageFailed
from tessera.storage.grouped import RUN_ALONE, Grouped, Rows

T = TypeVar("T")

# Rows per statement: past this, a turn's rows go in more than one statement (on other
# connections, in parallel). A rotation holds three advisory locks per row until commit.
MAX_ROWS = 64

Send = Callable[[str, list[list[Any]]], Coroutine[Any, Any, Rows]]


def _whole_row(row: tuple[Any, ...] | None) -> Any:
    return row


def _rows_by_ordinality(rows: Rows, count: int) -> list[tuple[Any, ...] | None]:
    """Rows of (n, columns...): each request's row of columns, None for one without."""
    answers: list[tuple[Any, ...] | None] = [None] * count
    for row in rows:
        answers[row[0] - 1] = row[1:]
    return answers


def many_lookups(alone: Compiled, table: Table, columns: Sequence[Column[Any]], key: str) -> Grouped[Any]:
    """The rows of `table` found by `key` (a unique column) for many requests at once:
    `alone` selects `columns` WHERE key = :key; the grouped form answers each request the
    same columns, as a tuple, or None."""
    quote = _DIALECT.identifier_preparer.quote
    selected = ", ".join(f"found.{quote(column.name)}" for column in columns)
    kind = table.c[key].type.compile(dialect=_DIALECT)
    # Built from the schema's own names: no value ever enters the SQL text.
    sql = (
        f"SELECT input.n, {selected} FROM unnest($1::{kind}[]) WITH ORDINALITY AS input ({quote(key)}, n) "  # noqa: S608
        f"JOIN {quote(table.name)} AS found ON found.{quote(key)} = input.{quote(key)}"
    )
    return Grouped(alone, (key,), sql, _rows_by_ordinality, answer_alone=_whole_row, read=True)


_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def by_ordinality(rows: Rows, count: int) -> list[Any]:
    """Rows of (n, value): each request's value, None for a request without a row."""
    answers: list[Any] = [None] * count
    for n, value in rows:
        answers[n - 1] = value
    return answers


def _inserted_ids(rows: Rows, count: int) -> list[int]:
    if len(rows) != count:  # never seen; answered as a failure rather than guessed
        raise StorageFailed(f"a multi-row INSERT of {count} rows returned {len(rows)} ids")
    return sorted(int(row[0]) for row in rows)


def many_rows_sql(statement: CompiledInsert, dialect: Dialect) -> str:
    """The multi-row form of a CompiledInsert: one array parameter per column."""
    quote = dialect.identifier_preparer.quote
    table = statement.table
    names = ", ".join(quote(name) for name in statement.columns)
    arrays = ", ".join(
        f"${position}::{table.c[name].type.compile(dialect=dialect)}[]"
        for position, name in enumerate(statement.columns, 1)
    )
    # Built from the schema's own names: no value ever enters the SQL text.
    return (
        f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM unnest({arrays}) "  # noqa: S608
        f"WITH ORDINALITY AS rows ({names}, n) ORDER BY n RETURNING {quote('id')}"
    )


def many_inserts(statement: CompiledInsert, dialect: Dialect) -> Grouped[int]:
    return Grouped(statement.returning, statement.columns, many_rows_sql(statement, dialect), _inserted_ids)


class StatementGroup(Generic[T]):
    """The pending uses of one Grouped statement on one event loop."""

    def __init__(
        self, grouped: Grouped[T], send: Send, send_one: Callable[[dict[str, Any]], Coroutine[Any, Any, T]]
    ) -> None:
        self._grouped = grouped
        self._send = send  # runs the grouped statement: its rows
        self._send_one = send_one  # the same statement for one request alone: its answer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[dict[str, Any], asyncio.Future[T]]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    async def run(self, params: dict[str, Any]) -> T:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests, the CLI): what the last left is gone
            self._loop, self._pending, self._scheduled = loop, [], False
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((params, future))
        if not self._scheduled:
            # call_soon, not now: the statements of requests served in this turn join the batch.
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        assert self._loop is not None
        for start in range(0, len(pending), MAX_ROWS):
            task = self._loop.create_task(self._run(pending[start : start + MAX_ROWS]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _run(self, batch: list[tuple[dict[str, Any], asyncio.Future[T]]]) -> None:
        if len(batch) == 1:
            await self._alone(batch)
            return
        arrays = [[params[name] for params, _ in batch] for name in self._grouped.names]
        try:
            rows = await self._send(self._grouped.sql, arrays)
        except StorageFailed:
            # A row the statement refused (a foreign key, a value the schema cannot hold):
            # nothing of it was written; each row again alone, so only its own request fails.
            await self._alone(batch)
            return
        except Exception as error:  # unavailable: every request of the batch hears it
            _fail(batch, error)
            return
        try:
            answers = self._grouped.answers(rows, len(batch))
        except StorageFailed as error:  # written, but the answer cannot be read: never resent
            _fail(batch, error)
            return
        again = []
        for (params, future), answer in zip(batch, answers, strict=True):
            if answer is RUN_ALONE:
                again.append((params, future))
            elif not future.done():  # a request cancelled meanwhile: a write stays, unclaimed
                future.set_result(answer)
        if again:
            await self._alone(again)

    async def _alone(self, batch: Sequence[tuple[dict[str, Any], asyncio.Future[T]]]) -> None:
        await asyncio.gather(*(_settle(future, self._send_one(params)) for params, future in batch))


def _fail(batch: Sequence[tuple[dict[str, Any], asyncio.Future[T]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


async def _settle(future: asyncio.Future[T], write: Coroutine[Any, Any, T]) -> None:
    try:
        answer = await write
    except Exception as error:
        if not future.done():
            future.set_exception(error)
        return
    if not future.done():
        future.set_result(answer)
