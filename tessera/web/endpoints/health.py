"""GET /healthz: liveness for load balancers, on every host; touches no database.

It is also the benchmark's baseline: the same process and stack as every other route,
with nothing of Tessera's own in it (docs/benchmarks.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})
