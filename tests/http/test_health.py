"""GET /healthz and GET /readyz (INTERFACE.md section 9): liveness on every host, and
readiness that is 200 only when the database answers within a second, else 503 with
Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
import pytest

from tessera.app import create_app
from tessera.settings import Settings
from tessera.storage.database import Database, StorageUnavailable
from tests.support import World

pytestmark = pytest.mark.anyio

T = TypeVar("T")


class FaultyDatabase:
    """The real database, except that reads hang or fail while `fault` says so."""

    def __init__(self, real: Database) -> None:
        self.real = real
        self.engine = real.engine
        self.dialect = real.dialect
        self.fault: str | None = None

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        if self.fault == "hang":
            await asyncio.sleep(30)
        if self.fault == "fail":
            raise StorageUnavailable("the database could not be reached: connection refused")
        return await self.real.read(fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.real.write(fn, *args)

    def close(self) -> None:
        """The real database belongs to the session fixture."""


@pytest.fixture
def faulty(database: Database) -> FaultyDatabase:
    return FaultyDatabase(database)


@pytest.fixture
async def faulty_http(settings: Settings, faulty: FaultyDatabase, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=faulty)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


@pytest.mark.parametrize("host", ["account", "platform"])
async def test_healthz_and_readyz_answer_200_on_account_and_platform_hosts(
    http: httpx.AsyncClient, world: World, host: str
) -> None:
    headers = {"Host": "localhost"} if host == "platform" else {}
    live = await http.get("/healthz", headers=headers)
    assert (live.status_code, live.text) == (200, "ok")
    ready = await http.get("/readyz", headers=headers)
    assert (ready.status_code, ready.text) == (200, "ready")
    assert ready.headers["cache-control"] == "no-store"


async def test_readyz_is_503_within_about_a_second_when_the_database_hangs(
    faulty_http: httpx.AsyncClient, faulty: FaultyDatabase
) -> None:
    faulty.fault = "hang"
    started = time.monotonic()
    ready = await faulty_http.get("/readyz")
    took = time.monotonic() - started
    assert ready.status_code == 503, ready.text
    assert ready.headers["retry-after"] == "5"
    assert "did not answer within 1 s" in ready.text
    assert 0.9 <= took < 2.0, took
    # Liveness is only "the process answers".
    assert (await faulty_http.get("/healthz")).status_code == 200


async def test_readyz_is_503_when_the_database_refuses_and_200_again_when_it_is_back(
    faulty_http: httpx.AsyncClient, faulty: FaultyDatabase
) -> None:
    faulty.fault = "fail"
    ready = await faulty_http.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.headers["retry-after"] == "5"
    assert "could not be reached: connection refused" in ready.text  # the reason, not only its class
    faulty.fault = None
    assert (await faulty_http.get("/readyz")).status_code == 200


async def test_concurrent_readyz_during_a_hang_share_one_probe(
    faulty_http: httpx.AsyncClient, faulty: FaultyDatabase
) -> None:
    """Probes must not pile up on a database that does not answer."""
    calls = 0
    hanging_read = faulty.read

    async def counting_read(fn: Callable[..., T], *args: Any) -> T:
        nonlocal calls
        calls += 1
        return await hanging_read(fn, *args)

    faulty.read = counting_read  # type: ignore[method-assign]
    faulty.fault = "hang"
    answers = await asyncio.gather(*(faulty_http.get("/readyz") for _ in range(10)))
    assert [a.status_code for a in answers] == [503] * 10
    assert calls == 1
