"""POST /oauth/device/code: the device authorization endpoint (RFC 8628 section 3.1);
rules in protocol/device_authorization.py. Answered like the token endpoint: JSON, no-store,
failed client authentication throttled (INTERFACE.md section 9)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import device_authorization
from tessera.web import responses
from tessera.web.endpoints.client_requests import answer_with
from tessera.web.services import Services


async def device_code(services: Services, request: Request) -> Response:
    # RFC 8628 section 3.2: 200 and JSON; no-store as every answer that carries a secret.
    return await answer_with(
        services,
        request,
        device_authorization.authorize_device,
        lambda body: responses.json(body, 200, responses.NO_STORE),
        clients=services.stores.clients,
        device_codes=services.stores.device_codes,
        used_once=services.stores.used_once,
    )
