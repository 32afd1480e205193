"""POST /oauth/tokens: the token endpoint (RFC 6749 section 3.2); rules in protocol/token_endpoint.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera import metrics
from tessera.protocol import token_endpoint
from tessera.web import audit_trail, dpop_proofs, responses
from tessera.web.endpoints.client_requests import answer
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def token(services: Services, request: Request) -> Response:
    async def step(params: Params, host: AccountHost) -> dict[str, Any]:
        issued = await token_endpoint.exchange(
            params.values,
            params.repeated,
            header(request, b"authorization"),
            host.account,
            host.issuer,
            services.now(),
            services.grant_context,
            audit_trail.client_address(request),
            dpop_check=dpop_proofs.proof_check_if_sent(services, request, host),
        )
        # Only a grant the endpoint accepted gets here: a fixed set of label values.
        metrics.token_issued(params.values["grant_type"])
        return issued

    # RFC 6749 section 5.1: 200, and "Cache-Control: no-store" with "Pragma: no-cache".
    return await answer(services, request, step, lambda body: responses.json(body, 200, responses.NO_STORE))
