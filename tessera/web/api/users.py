"""GET /api/v2/users/me(.json): the caller, as Zendesk shapes it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.management.shapes import user_json
from tessera.web import responses, sessions
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def me(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    body = user_json(caller.user, host.issuer)
    if caller.session is not None:
        body["authenticity_token"] = sessions.authenticity_token(services, caller.session)
    return responses.json({"user": body}, 200, {"Cache-Control": "no-store"})
