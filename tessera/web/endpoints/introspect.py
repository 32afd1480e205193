"""POST /oauth/introspect: RFC 7662; rules in protocol/introspection.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import introspection
from tessera.web import responses
from tessera.web.endpoints.client_requests import answer_with
from tessera.web.services import Services


async def introspect(services: Services, request: Request) -> Response:
    return await answer_with(
        services,
        request,
        introspection.endpoint,
        lambda body: responses.json(body, 200, responses.NO_STORE),
        tokens=services.stores.tokens,
        clients=services.stores.clients,
        users=services.stores.users,
        keys=services.keys,
        documents=services.documents,
        used_once=services.stores.used_once,
    )
