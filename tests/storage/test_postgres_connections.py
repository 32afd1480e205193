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
        (asyncpg.exceptions.InvalidCatalogNameError('database "gone" does not exist'), StorageUnavailable),
        (asyncpg.exceptions.InvalidPasswordError('password authentication failed for user "x"'), StorageUnavailable),
        (asyncpg.exceptions.InvalidAuthorizationSpecificationError('role "x" does not exist'), StorageUnavailable),
        (asyncpg.exceptions.UniqueViolationError("duplicate key value"), StorageFailed),
        (asyncpg.exceptions.DataError("invalid input for query argument $1"), StorageFailed),
        (asyncpg.exceptions.UndefinedTableError('relation "nope" does not exist'), StorageFailed),
    ],
)
def test_asyncpgs_errors_are_sorted_by_sqlstate(error: Exception, expected: type[Exception]) -> None:
    assert _sorted(error) is expected


def test_a_database_that_does_not_exist_is_unavailable(postgres_url: str) -> None:
    """A dropped (or not yet created) database is the operator's to mend: requests answer
    503 with Retry-After meanwhile (INTERFACE.md section 9), not 500."""
    base = postgres_url.rsplit("/", 1)[0]
    db = PostgresDatabase(f"{base}/tessera_never_created_{secrets.token_hex(3)}", size=1, timeout=5)
    try:
        with pytest.raises(StorageUnavailable):
            asyncio.run(db.read(_application_name))
    finally:
        db.close()


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


class _FreezingProxy:
    """A TCP relay to the database that stops relaying while `flowing` is clear: a server
    that hangs."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for writer in self.writers), return_exceptions=True)
        await self.server.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        self.writers += [client_writer, server_writer]
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))


def test_a_hanging_database_is_answered_at_the_timeout_not_two_seconds_later(postgres_url: str) -> None:
    """INTERFACE.md section 9: 503 within TESSERA_DATABASE_TIMEOUT, never a hang. A call
    through SQLAlchemy's greenlet (reads and writes of several statements) cancelled at its
    deadline would have SQLAlchemy close the connection politely, 2 s more; it is cut."""
    parts = sa.engine.make_url(postgres_url)

    async def scenario() -> list[float]:
        proxy = _FreezingProxy(parts.host or "127.0.0.1", parts.port or 5432)
        port = await proxy.start()
        db = PostgresDatabase(str(parts.set(host="127.0.0.1", port=port)), size=2, timeout=1)
        took = []
        assert await db.read(_application_name) is not None  # connections open, and idle
        proxy.flowing.clear()
        for call in (db.read, db.write):
            started = asyncio.get_running_loop().time()
            with pytest.raises(StorageUnavailable, match="did not answer within 1 s"):
                await call(_application_name)
            took.append(asyncio.get_running_loop().time() - started)
        proxy.flowing.set()
        try:
            assert await db.read(_application_name) is not None  # and back by itself
        finally:
            await db.aclose()
            await proxy.stop()
        return took

    for seconds in asyncio.run(scenario()):
        # At the deadline, give or take a busy loop; a polite close would take 2 s more (3 s).
        assert 0.9 <= seconds < 2.5, seconds
