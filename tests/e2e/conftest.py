"""End-to-end fixtures: a real `tessera serve` process per test module and engine.

Each module gets, on SQLite (a temp file) and on PostgreSQL (a fresh database, dropped
afterwards), a database seeded only through the real CLI (`tessera accounts create`,
`users create`, `clients create --json`) and a server on a free port. Tests talk to it
over real sockets; see harness.py for why requests go to 127.0.0.1 with a Host header.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e import chromium, harness
from tests.e2e.harness import Server


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A seeded account served by a real server process; see the module docstring."""
    directory = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with harness.fresh_database(request.param, directory) as database_url:
        seeded = harness.seed(database_url)
        log_path = directory / "server.log"
        with harness.running_server(database_url, log_path) as port:
            yield Server(request.param, port, database_url, log_path, seeded)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for the browser tests of one module (tests/e2e/chromium.py)."""
    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        try:
            yield launched
        finally:
            launched.close()
