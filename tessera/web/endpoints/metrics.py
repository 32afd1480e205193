"""GET /metrics on the platform host (INTERFACE.md section 9): Prometheus text format, when
TESSERA_METRICS=1; without it the path answers 404 like any unknown path.

"reachable only from loopback unless TESSERA_METRICS_TOKEN is set and sent as a bearer
token": with a token set, every scrape must send it (behind a reverse proxy every request
comes from loopback, so the address alone would let anyone in); without one, only a
scraper on the same machine is answered.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import Response

from tessera import metrics
from tessera.web import responses, tenancy
from tessera.web.headers import header
from tessera.web.services import Services
from tessera.web.tenancy import PlatformHost

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


async def metrics_endpoint(services: Services, request: Request) -> Response:
    if not services.settings.metrics:
        return responses.problem(404, "not_found", "There is nothing at this address.")
    host = await tenancy.resolve(request, services)
    if not isinstance(host, PlatformHost):
        return responses.problem(404, "not_found", "Metrics are served on the platform host only.")
    token = services.settings.metrics_token
    if token:
        sent = header(request, b"authorization") or ""
        scheme, _, credential = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credential.strip().encode(), token.encode()):
            answer = responses.problem(401, "unauthorized", "Send the metrics token: Authorization: Bearer TOKEN.")
            answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return answer
    elif request.client is None or request.client.host not in LOOPBACK:
        return responses.problem(
            403,
            "forbidden",
            "Metrics are answered on loopback only; set TESSERA_METRICS_TOKEN to scrape from elsewhere.",
        )
    return Response(metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"})
