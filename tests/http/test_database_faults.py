"""Database faults (INTERFACE.md section 9): "When the database is down, requests answer 503
with Retry-After within TESSERA_DATABASE_TIMEOUT seconds, never hang, and service resumes
by itself when the database returns."

Each test serves from a database object of its own, opened with a one-second timeout, over
the session's database (the `world` is written through the shared one).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import psycopg
import pytest

from tessera.app import create_app
from tessera.settings import Settings, sqlite_path
from tessera.storage.database import open_database
from tessera.storage.postgres_connections import libpq_url
from tests.support import World

pytestmark = pytest.mark.anyio

TIMEOUT = 1.0
# The timeout, plus what a loaded test machine adds to a request around it.
ANSWERED_WITHIN = TIMEOUT + 1.5


@pytest.fixture
async def faulty(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    db = open_database(settings.database_url, timeout=TIMEOUT)
    app = create_app(settings.with_overrides(database_timeout=TIMEOUT), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as client:
        yield client
    await db.aclose()


def _requests(http: httpx.AsyncClient, world: World) -> list[Callable[[], Awaitable[httpx.Response]]]:
    """A token request (reads the client, writes the token), an introspection (reads a
    token) and the JWKS (reads the keys)."""

    async def token() -> httpx.Response:
        form = {"grant_type": "client_credentials", "scope": "read"}
        return await http.post("/oauth/tokens", auth=world.machine.basic(), data=form)

    async def introspect() -> httpx.Response:
        return await http.post("/oauth/introspect", auth=world.machine.basic(), data={"token": "tsa_unknown"})

    async def jwks() -> httpx.Response:
        return await http.get("/oauth/jwks")

    return [token, introspect, jwks]


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "temporarily_unavailable"


async def _timed(send: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await send()
    return response, time.monotonic() - started


@pytest.mark.postgres
async def test_connections_cut_by_the_server_give_no_500_and_service_resumes(
    database_url: str, faulty: httpx.AsyncClient, world: World
) -> None:
    """pg_terminate_backend on every connection of the pool (as a restart or a failover
    does): the pool finds each dead connection at its next use and repeats the call on a
    fresh one where that is safe, so every request is still answered, none with a 500."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections")
    calls = _requests(faulty, world)
    # The first call opens every connection of the pool (8) at once; one request of each
    # kind is enough, and more would only queue for them on a loaded machine.
    warm = await asyncio.gather(*(send() for send in calls))
    assert {r.status_code for r in warm} == {200}, [r.text for r in warm if r.status_code != 200]
    with psycopg.connect(libpq_url(database_url), autocommit=True) as admin:
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert cut is not None and cut[0] >= 8, cut
    after = await asyncio.gather(*(send() for send in calls * 10))
    assert all(r.status_code in (200, 503) for r in after), [(r.status_code, r.text) for r in after]
    # Every call on a dead connection was a read or failed at its BEGIN: all repeated.
    assert [r.status_code for r in after] == [200] * len(after), [r.text for r in after if r.status_code != 200]


@pytest.mark.postgres
async def test_a_locked_table_answers_503_within_the_timeout_then_resumes(
    database_url: str, faulty: httpx.AsyncClient, world: World
) -> None:
    """A table lock held by another connection (a migration, a stray transaction): the
    token and introspection requests answer 503 within the timeout instead of waiting
    for the lock, and succeed as soon as it is released."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's locks")
    token, introspect, _jwks = _requests(faulty, world)
    with psycopg.connect(libpq_url(database_url)) as locker:
        locker.execute("LOCK TABLE access_tokens IN ACCESS EXCLUSIVE MODE")
        for send in (token, introspect):
            response, took = await _timed(send)
            _unavailable(response)
            assert took < ANSWERED_WITHIN, took
        locker.rollback()
    for send in (token, introspect):
        response = await send()
        assert response.status_code == 200, response.text


async def test_a_sqlite_write_lock_held_elsewhere_answers_503_within_the_timeout_then_resumes(
    database_url: str, faulty: httpx.AsyncClient, world: World
) -> None:
    """Another process holding SQLite's write lock (BEGIN IMMEDIATE): writes are retried
    for the timeout and then refused with 503; reads go on (WAL); once the lock is
    released, writes succeed again."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    token, introspect, _jwks = _requests(faulty, world)
    locker = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        response, took = await _timed(token)
        _unavailable(response)
        assert TIMEOUT * 0.9 <= took < ANSWERED_WITHIN, took
        assert (await introspect()).status_code == 200  # a WAL reader never waits for the writer
        locker.execute("ROLLBACK")
    finally:
        locker.close()
    response = await token()
    assert response.status_code == 200, response.text
