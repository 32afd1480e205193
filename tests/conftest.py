"""Shared fixtures: every storage and HTTP test runs on SQLite and on PostgreSQL.

- `database_url` is parametrised over both engines, one fresh database per test session
  (and per xdist worker); PostgreSQL must be running at TESSERA_TEST_POSTGRES_URL
  (default postgresql://postgres@127.0.0.1:5432/postgres): `make test` starts it.
- Tests isolate by tenancy: each test gets its own account (`world`), so they share a
  database without seeing each other's rows.
- `clock` is a controllable time source handed to the app through Settings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tessera.app import create_app
from tessera.settings import Settings, normalise_database_url
from tessera.storage import migrate
from tessera.storage.database import Database, open_database
from tessera.storage.stores import Stores
from tests.support import Clock, World, make_world

POSTGRES_ADMIN_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _postgres_database(worker_id: str) -> Iterator[str]:
    name = f"tessera_test_{worker_id}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield normalise_database_url(f"{base}/{name}")
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=ENGINES)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[str]:
    """A migrated, empty database on each engine, shared by the session's tests.

    "memory" (only where a test parametrises this itself, tests/storage/port_world.py) means
    no database: the test runs on the in-memory stores."""
    if request.param == "memory":
        yield "memory"
        return
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "tessera.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    for url in _postgres_database(worker_id):
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    yield db
    db.close()


@pytest.fixture
def stores(database: Database) -> Stores:
    return Stores.over(database)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str, clock: Clock) -> Settings:
    return Settings(
        database_url=database_url,
        base_domain="localhost",
        scheme="http",
        secret_key="test-secret-key-" + "x" * 32,
        access_log=False,
        clock=clock,
    )


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    return create_app(settings, db=database)


@pytest.fixture
async def world(stores: Stores, clock: Clock) -> World:
    """A fresh account with an admin, an end user and a few clients (see tests/support.py)."""
    return await make_world(stores, clock)


@pytest.fixture
async def http(app, world: World) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """An in-process client whose requests go to the world's account host."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin, follow_redirects=False) as client:
        yield client
