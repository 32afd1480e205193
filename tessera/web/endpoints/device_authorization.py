"""POST /oauth/device/code: the device authorization endpoint (RFC 8628 section 3.1);
rules in protocol/device_authorization.py. Answered like the token endpoint: JSON, no-store,
failed client authentication throttled (INTERFACE.md section 9)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import device_authorization
from tessera.web import responses
from tessera.web.endpoints.client_requests import answer
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def device_code(services: Services, request: Request) -> Response:
    async def step(params: Params, host: AccountHost) -> dict[str, Any]:
        return await device_authorization.authorize_device(
            params.values,
            params.repeated,
            header(request, b"authorization"),
            host.account,
            host.issuer,
            services.now(),
            services.stores.clients,
            services.stores.device_codes,
            used_once=services.stores.used_once,
        )

    # RFC 8628 section 3.2: 200 and JSON; no-store as every answer that carries a secret.
    return await answer(services, request, step, lambda body: responses.json(body, 200, responses.NO_STORE))
