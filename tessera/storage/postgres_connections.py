"""PostgreSQL: which of asyncpg's connections may serve another call, and throwing one
away. postgres_loop.py runs the calls; these helpers judge a connection before a call
(has the server hung up on it while it was idle?) and after a failed one (may it serve
again, and may the call be repeated on a fresh one?), and how the errors a call raises are
sorted (asyncpg_errors). docs/reliability.md tells the faults they answer.
"""

from __future__ import annotations

import contextlib
import select
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from tessera.storage.errors import DatabaseErrors, StorageFailed, chain, sqlstates


def driver_of(conn: AsyncConnection) -> Any:
    """The asyncpg connection, or None once SQLAlchemy has invalidated ours (it does on an
    error it takes for a disconnect, and then refuses to hand the connection out)."""
    sync = conn.sync_connection
    return None if sync is None or sync.invalidated else sync.connection.driver_connection


def hung_up(conn: AsyncConnection) -> bool:
    """An idle connection has nothing to read unless the server spoke first: it ended the
    session (a restart, pg_terminate_backend: a FATAL message, then the end of the stream)
    or closed it. Seen before anything is sent, such a connection is thrown away with
    nothing of the call lost, which matters for a single statement sent without BEGIN:
    failing on it, there would be no telling whether it ran. asyncpg reads its socket
    whenever the loop polls, so it has usually seen the end and closed; what arrived since
    the last poll is still waiting in the socket."""
    driver = driver_of(conn)
    if driver is None or driver.is_closed():
        return True
    transport = driver._transport  # asyncpg keeps no public handle on its socket
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def still_usable(conn: AsyncConnection, error: Exception, translated: Exception) -> bool:
    """Whether a connection a call failed on may serve the next one: when the failure was
    not the database's (a storage function's own exception), or when the server refused the
    statement and said why (a SQLSTATE, as for a value the schema cannot hold) and the
    connection is open. After anything else (a timeout, a session the server ended, an
    error of asyncpg's own) its protocol may be mid-exchange, and asyncpg would refuse the
    next statement ("another operation is in progress"): it is thrown away."""
    if translated is error:
        return True
    return isinstance(translated, StorageFailed) and bool(sqlstates(error)) and not broken(conn)


def refused_unsent(error: BaseException) -> bool:
    """asyncpg refused to send the statement: the connection's protocol was still in an
    exchange. A server that ends an idle session sends an error first, which asyncpg reads
    and then waits for the end of; a statement taken up in that moment is refused before a
    byte of it is written, so repeating it on a fresh connection is safe."""
    return any(
        isinstance(seen, asyncpg.exceptions.InternalClientError) and "in progress" in str(seen)
        for seen in chain(error, limit=4)
    )


def ended_by_server(error: BaseException) -> bool:
    """The server answered the statement by ending the session (SQLSTATE 57P01-57P03: a
    shutdown, a crash, pg_terminate_backend): then the statement, and any transaction it was
    in, did not commit, so repeating it is safe. A connection that simply died gives no such
    answer, and a write that was sent may have committed: that one is not repeated."""
    return any(state.startswith("57P") for state in sqlstates(error))


def broken(conn: AsyncConnection) -> bool:
    driver = driver_of(conn)
    return driver is None or bool(driver.is_closed())


async def discard(conn: AsyncConnection) -> None:
    """Throw a connection away: closed at once, never handed out again. Its socket is
    closed first, without a word to the server: SQLAlchemy's invalidate alone would close
    it politely, waiting up to 2 s for a server that may be gone."""
    driver = driver_of(conn)
    if driver is not None:
        with contextlib.suppress(Exception):
            driver.terminate()
    with contextlib.suppress(Exception):
        await conn.invalidate()


def cut_at_deadline(conn: AsyncConnection, cut: list[bool]) -> None:
    """At the call's deadline, close the connection's socket at once. A call running in
    SQLAlchemy's greenlet that is cancelled instead (asyncio.timeout) has SQLAlchemy close
    the connection politely first, waiting up to 2 s more for a server that does not answer;
    cut, the statement fails at once and the call answers at its deadline."""
    cut.append(True)
    driver = driver_of(conn)
    if driver is not None:
        driver.terminate()


async def close_all(conns: list[AsyncConnection]) -> None:
    for conn in conns:
        with contextlib.suppress(Exception):
            await conn.close()


class StaleConnection(Exception):
    """The connection was found dead before anything of the call reached the server."""


def libpq_url(url: str) -> str:
    """The database URL without SQLAlchemy's driver name: postgresql://..."""
    return "postgresql://" + url.split("://", 1)[1]


def asyncpg_errors(dbapi: Any) -> DatabaseErrors:
    """Sorts what the serving path raises: SQLAlchemy's adaptation of asyncpg's errors
    (`dbapi`) inside storage functions, asyncpg's own on the hot statements sent straight
    to it, and the socket's when the server cannot be reached."""
    return DatabaseErrors(
        dbapi,
        unavailable=(asyncpg.exceptions.ConnectionDoesNotExistError, OSError),
        failed=(asyncpg.PostgresError, asyncpg.InterfaceError),
    )
