"""POST /oauth/par: the pushed authorization request endpoint (RFC 9126 section 2); rules in
protocol/pushed_authorization.py. Client authentication, its throttle and the error shapes
are the token endpoint's (web/endpoints/client_requests.py). A DPoP proof sent with the
request binds the code to its key (RFC 9449 section 10.1)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import pushed_authorization
from tessera.web import dpop_proofs, responses
from tessera.web.endpoints.client_requests import answer
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def par(services: Services, request: Request) -> Response:
    async def step(params: Params, host: AccountHost) -> dict[str, Any]:
        return await pushed_authorization.push(
            params.values,
            params.repeated,
            header(request, b"authorization"),
            host.account,
            host.issuer,
            services.now(),
            clients=services.stores.clients,
            resources=services.stores.resources,
            store=services.stores.pushed_requests,
            documents=services.documents,
            used_once=services.stores.used_once,
            dpop_check=dpop_proofs.proof_check_if_sent(services, request, host),
        )

    # RFC 9126 section 2.2: "201 Created"; like every response carrying a credential-like
    # value, not to be cached.
    return await answer(services, request, step, lambda body: responses.json(body, 201, responses.NO_STORE))
