"""GET /healthz and GET /readyz (INTERFACE.md section 9), on every host.

/healthz is liveness: the process answers; it touches no database. It is also the
benchmark's baseline: the same process and stack as every other route, with nothing of
Tessera's own in it (docs/benchmarks.md).

/readyz is readiness: 200 when the database answers `SELECT 1` within a second, else 503
with Retry-After, so that a load balancer sends no traffic to a node that cannot serve it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tessera.storage import health
from tessera.storage.database import Database

log = logging.getLogger("tessera.health")

READY_WITHIN = 1.0  # seconds (INTERFACE.md section 9)
RETRY_AFTER = "5"
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers=NO_STORE)


class _Probe:
    """One `SELECT 1` in flight at a time, shared by every /readyz request that arrives
    meanwhile: while the database hangs, probes must not pile up on its connection pool."""

    def __init__(self, database: Callable[[], Database]) -> None:
        self._database = database
        self._running: asyncio.Future[None] | None = None

    async def answers_within(self, seconds: float) -> str | None:
        """None when the database answered in time, else why not."""
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._database().read(health.ping))
            self._running.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(self._running), seconds)
        except TimeoutError:
            return f"the database did not answer within {seconds:g} s"
        except Exception as error:  # any failure to answer means "not ready"
            said = str(error).strip().splitlines()
            return f"the database could not be used: {said[0] if said else type(error).__name__}"
        return None


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a failed probe's exception as seen: it is reported by the request that waited
    for it, or by none if every waiter timed out first."""
    if not future.cancelled():
        future.exception()


def readiness(database: Callable[[], Database]) -> Callable[[Request], Awaitable[Response]]:
    """The /readyz endpoint over the database `database()` gives (looked up at the first
    request, so that building the route table touches nothing)."""
    probe = _Probe(database)

    async def readyz(request: Request) -> Response:
        problem = await probe.answers_within(READY_WITHIN)
        if problem is None:
            return PlainTextResponse("ready", headers=NO_STORE)
        log.warning("not ready: %s", problem)
        return PlainTextResponse(f"not ready: {problem}", 503, headers={**NO_STORE, "Retry-After": RETRY_AFTER})

    return readyz
