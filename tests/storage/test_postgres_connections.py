"""The PostgreSQL serving path's connections (tessera/storage/postgres_loop.py): asyncpg
under SQLAlchemy's bridge. The URL's libpq parameters reach the server, asyncpg's errors are
sorted as psycopg's were (a statement cancelled or a session ended is "unavailable", a
refused value is not), and the connections of a loop are closed when the loop shuts down.
"""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage import postgres_connections
from tessera.storage.errors import StorageFailed, StorageUnavailable, sqlstates
from tessera.storage.postgres_connections import asyncpg_errors, libpq_url
from tessera.storage.postgres_loop import PostgresDatabase

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections")
    return database_url


def _application_name(conn: Connection) -> str:
    return str(conn.execute(sa.text("SELECT current_setting('application_name')")).scalar_one())


def _open_connections(url: str, application_name: str) -> int:
    with psycopg.connect(libpq_url(url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_the_urls_libpq_parameters_reach_the_server(postgres_url: str) -> None:
    name = f"tessera-test-{secrets.token_hex(3)}"
    db = PostgresDatabase(f"{postgres_url}?sslmode=disable&application_name={name}", timeout=5)

    async def read() -> str:
        try:
            return await db.read(_application_name)
        finally:
            await db.aclose()

    assert asyncio.run(read()) == name


def test_a_loops_connections_are_closed_when_it_shuts_down(postgres_url: str) -> None:
    """The database object outlives loops (the CLI runs one per command); asyncpg's
    connections cannot be closed from another loop, so each loop's are closed as it ends."""
    name = f"tessera-test-{secrets.token_hex(3)}"
    db = PostgresDatabase(f"{postgres_url}?application_name={name}", size=4, timeout=5)

    async def read() -> tuple[str, int]:
        return await db.read(_application_name), _open_connections(postgres_url, name)

    try:
        for _ in range(2):
            assert asyncio.run(read()) == (name, 4)  # the pool opened on this loop
            assert _open_connections(postgres_url, name) == 0  # and closed with it
    finally:
        db.close()


def _sorted(error: Exception) -> type[Exception]:
    return type(asyncpg_errors(sa.create_engine("postgresql+asyncpg://").dialect.dbapi).translate(error))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"), StorageUnavailable),
        (asyncpg.exceptions.LockNotAvailableError("canceling statement due to lock timeout"), StorageUnavailable),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), StorageUnavailable),
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), StorageUnavailable),
        (ConnectionRefusedError("connection refused"), StorageUnavailable),
        (asyncpg.exceptions.UniqueViolationError("duplicate key value"), StorageFailed),
        (asyncpg.exceptions.DataError("invalid input for query argument $1"), StorageFailed),
        (asyncpg.exceptions.UndefinedTableError('relation "nope" does not exist'), StorageFailed),
    ],
)
def test_asyncpgs_errors_are_sorted_by_sqlstate(error: Exception, expected: type[Exception]) -> None:
    assert _sorted(error) is expected


def test_a_session_ended_under_a_statement_is_known_by_the_servers_answer() -> None:
    """asyncpg reports it as a missing connection (08003) raised from the server's FATAL
    (57P01): the statement did not commit, which lets the caller repeat it."""
    try:
        try:
            raise asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
        except asyncpg.exceptions.AdminShutdownError as cause:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed") from cause
    except asyncpg.exceptions.ConnectionDoesNotExistError as error:
        assert sqlstates(error) == ["08003", "57P01"]


def test_a_statement_asyncpg_refused_to_send_is_known_as_unsent() -> None:
    """A server ending an idle session sends its error first; asyncpg, reading it, refuses
    the next statement before writing it. Nothing reached the server, so the call may be
    repeated on a fresh connection (tests/e2e/test_database_outage.py meets it under load)."""
    busy = asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2) is in progress")
    wrapped = sa.exc.InterfaceError("SELECT 1", {}, Exception("adapted"))
    wrapped.orig.__cause__ = busy  # type: ignore[union-attr]  # SQLAlchemy's adapter, raised from asyncpg's
    assert postgres_connections.refused_unsent(busy)
    assert postgres_connections.refused_unsent(wrapped)
    assert not postgres_connections.refused_unsent(asyncpg.exceptions.InternalClientError("unexpected data type"))
    assert not postgres_connections.refused_unsent(asyncpg.exceptions.AdminShutdownError("terminating connection"))
