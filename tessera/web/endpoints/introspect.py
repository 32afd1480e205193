"""POST /oauth/introspect: RFC 7662; rules in protocol/introspection.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import introspection, token_endpoint
from tessera.protocol.errors import refuse_repeated
from tessera.web import responses
from tessera.web.endpoints.client_requests import answer
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def introspect(services: Services, request: Request) -> Response:
    stores = services.stores

    async def step(params: Params, host: AccountHost) -> dict[str, Any]:
        refuse_repeated(params.repeated, "RFC 7662 section 2.1")
        caller = await token_endpoint.authenticate_client(
            stores.clients, host.account, header(request, b"authorization"), params.values, now=services.now()
        )
        return await introspection.introspect(
            params.values,
            caller,
            host.account,
            host.issuer,
            services.now(),
            tokens=stores.tokens,
            clients=stores.clients,
            users=stores.users,
            keys=services.keys,
        )

    return await answer(services, request, step, lambda body: responses.json(body, 200, responses.NO_STORE))
