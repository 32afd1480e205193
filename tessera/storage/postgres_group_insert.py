"""PostgreSQL: the rows concurrent requests insert alone (a client credentials grant's
access token) sent together, as one multi-row INSERT per turn of the event loop.

Alone, each such row cost a round trip and a commit of its own: on one core, the node's
part of a round trip (asyncpg, the pool, the bound on the call) was a third of a token's
CPU, and each commit a WAL flush PostgreSQL had to make. Here the rows that arrive in the
same turn of the loop (32 concurrent requests mostly do) go in one statement:

    INSERT INTO t (c1, ...) SELECT c1, ... FROM unnest($1::type[], ...)
        WITH ORDINALITY AS rows (c1, ..., n) ORDER BY n RETURNING id

one round trip and one commit for all of them, as SQLite's writer shares one fsync
between a batch. It is sent without BEGIN, atomic by itself, and every request is
answered only after it has committed: nothing is answered before it is durable.

Which id is whose: the rows are inserted in the order of ORDER BY n, so the identity
column hands them ascending values in that order; the ids RETURNING gives are sorted and
matched to the requests in order (SQLAlchemy's insertmanyvalues relies on the same).

Failures: if the statement is refused for a row's sake (a client deleted meanwhile, so a
foreign key fails), every row is sent again alone, so only that request fails, as it would
have on its own. If the database is unavailable, every request of the batch hears so
(StorageUnavailable, 503), as each would have on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.engine import Dialect

from tessera.storage.compiled import CompiledInsert
from tessera.storage.errors import StorageFailed

# Rows per statement: past this, a turn's rows go in more than one statement (on other
# connections, in parallel). Parameters are arrays, so the statement's text and plan are
# the same for any number of rows: asyncpg prepares it once per connection.
MAX_ROWS = 128

Send = Callable[[str, list[Any]], Coroutine[Any, Any, list[int]]]
SendOne = Callable[[dict[str, Any]], Coroutine[Any, Any, int]]


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


class GroupInsert:
    """The pending rows of one CompiledInsert on one event loop."""

    def __init__(self, statement: CompiledInsert, sql: str, send: Send, send_one: SendOne) -> None:
        self._columns = statement.columns
        self._sql = sql
        self._send = send  # runs the multi-row statement: the ids of the rows, any order
        self._send_one = send_one  # inserts one row alone: its id
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()  # held, or the loop may drop them

    async def insert(self, params: dict[str, Any]) -> int:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests, the CLI): what the last left is gone
            self._loop, self._pending, self._scheduled = loop, [], False
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append((params, future))
        if not self._scheduled:
            # call_soon, not now: the rows of requests served in this turn join the batch.
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

    async def _run(self, batch: list[tuple[dict[str, Any], asyncio.Future[int]]]) -> None:
        if len(batch) == 1:
            params, future = batch[0]
            await _settle(future, self._send_one(params))
            return
        arrays = [[params[name] for params, _ in batch] for name in self._columns]
        try:
            ids = sorted(await self._send(self._sql, arrays))
        except StorageFailed:
            # A row the statement refused (a foreign key, a value the schema cannot hold):
            # nothing of it was written; each row again alone, so only its own request fails.
            await asyncio.gather(*(_settle(future, self._send_one(params)) for params, future in batch))
            return
        except Exception as error:  # unavailable: every request of the batch hears it
            _fail(batch, error)
            return
        if len(ids) != len(batch):  # never seen; answered as a failure rather than left waiting
            _fail(batch, StorageFailed(f"a multi-row INSERT of {len(batch)} rows returned {len(ids)} ids"))
            return
        for (_, future), row_id in zip(batch, ids, strict=True):
            if not future.done():  # a request cancelled meanwhile: its row stays, unclaimed
                future.set_result(row_id)


def _fail(batch: list[tuple[dict[str, Any], asyncio.Future[int]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)


async def _settle(future: asyncio.Future[int], insert: Coroutine[Any, Any, int]) -> None:
    try:
        row_id = await insert
    except Exception as error:
        if not future.done():
            future.set_exception(error)
        return
    if not future.done():
        future.set_result(row_id)
