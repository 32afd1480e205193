"""A database that cannot be reached answers 503 with Retry-After, never a 500 (INTERFACE.md
section 9: "When the database is down, requests answer 503 with Retry-After"), on both
engines, whether the failing statement was a read or a write, raised by the driver or by
SQLAlchemy: storage turns each into StorageUnavailable (tessera/storage/errors.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage import keys, postgres_loop
from tessera.storage.compiled import CompiledInsert
from tests.support import World

pytestmark = pytest.mark.anyio


def _driver_gone(conn: Connection, *_args: Any) -> None:
    dbapi: Any = conn.dialect.dbapi
    raise dbapi.OperationalError("server closed the connection unexpectedly")


def _sqlalchemy_gone(_conn: Connection, *_args: Any) -> None:
    raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


def unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize("gone", [_driver_gone, _sqlalchemy_gone], ids=["driver", "sqlalchemy"])
async def test_a_failing_read_answers_503(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, gone: Any
) -> None:
    monkeypatch.setattr(keys, "published", gone)  # the JWKS reads the account's keys
    unavailable(await http.get("/oauth/jwks"))


@pytest.mark.parametrize("gone", [_driver_gone, _sqlalchemy_gone], ids=["driver", "sqlalchemy"])
async def test_a_failing_write_answers_503(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch, gone: Any
) -> None:
    # A client credentials token is one row inserted on its own (Database.insert_one): on
    # SQLite a batched write of CompiledInsert.execute, on PostgreSQL its statement sent
    # straight to asyncpg (postgres_loop.fetchone_async). Either fails as a driver would.
    monkeypatch.setattr(CompiledInsert, "execute", lambda _self, conn, _params: gone(conn))

    async def driver_gone(_driver: Any, _sql: str, _values: Any) -> None:
        if gone is _driver_gone:
            # What asyncpg raises when the connection drops under a statement.
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        _sqlalchemy_gone(None)  # type: ignore[arg-type]

    monkeypatch.setattr(postgres_loop, "fetchone_async", driver_gone)
    response = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    unavailable(response)


async def test_the_browsers_page_carries_retry_after_too(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same answer as a page for a browser: 503, with Retry-After as for an app."""
    monkeypatch.setattr(keys, "published", _driver_gone)
    response = await http.get("/oauth/jwks", headers={"Accept": "text/html"})
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "5"
