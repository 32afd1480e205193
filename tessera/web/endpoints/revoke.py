"""POST /oauth/revoke: RFC 7009; rules in protocol/revocation.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import revocation
from tessera.web import audit_trail, responses
from tessera.web.endpoints.client_requests import answer_with
from tessera.web.services import Services


async def revoke(services: Services, request: Request) -> Response:
    # Section 2.2: "The authorization server responds with HTTP status code 200".
    return await answer_with(
        services,
        request,
        revocation.endpoint,
        lambda _: Response(status_code=200, headers=responses.NO_STORE),
        clients=services.stores.clients,
        tokens=services.stores.tokens,
        keys=services.keys,
        users=services.stores.users,
        ip_address=audit_trail.client_address(request),
        documents=services.documents,
        used_once=services.stores.used_once,
    )
