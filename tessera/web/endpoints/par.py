"""POST /oauth/par: the pushed authorization request endpoint (RFC 9126 section 2); rules in
protocol/pushed_authorization.py. Client authentication, its throttle and the error shapes
are the token endpoint's (web/endpoints/client_requests.py). A DPoP proof sent with the
request binds the code to its key (RFC 9449 section 10.1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import pushed_authorization
from tessera.web import audit_trail, responses
from tessera.web.endpoints.client_requests import answer_with
from tessera.web.services import Services


async def par(services: Services, request: Request) -> Response:
    # RFC 9126 section 2.2: "201 Created"; like every response carrying a credential-like
    # value, not to be cached.
    return await answer_with(
        services,
        request,
        pushed_authorization.push,
        lambda body: responses.json(body, 201, responses.NO_STORE),
        dpop_proof=True,
        clients=services.stores.clients,
        resources=services.stores.resources,
        store=services.stores.pushed_requests,
        # A client named by its metadata document may be first used here (PAR starts a flow).
        documents=services.documents.registering(audit_trail.client_address(request)),
        used_once=services.stores.used_once,
    )
