"""POST /oauth/introspect: RFC 7662; rules in protocol/introspection.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import introspection
from tessera.web import responses
from tessera.web.endpoints.client_requests import answer
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def introspect(services: Services, request: Request) -> Response:
    async def step(params: Params, host: AccountHost) -> dict[str, Any]:
        return await introspection.endpoint(
            params.values,
            params.repeated,
            header(request, b"authorization"),
            host.account,
            host.issuer,
            services.now(),
            tokens=services.stores.tokens,
            clients=services.stores.clients,
            users=services.stores.users,
            keys=services.keys,
            documents=services.documents,
            used_once=services.stores.used_once,
        )

    return await answer(services, request, step, lambda body: responses.json(body, 200, responses.NO_STORE))
