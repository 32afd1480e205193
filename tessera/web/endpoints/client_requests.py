"""The shape shared by the endpoints clients call with their credentials: token,
revocation and introspection. Read the body once, run the protocol step, and render
RFC 6749 section 5.2 errors (401 with a Basic challenge when Basic was used).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol.client_auth import ClientAuthenticationFailed
from tessera.protocol.errors import OAuthError
from tessera.web import params as param_reader
from tessera.web import responses, tenancy
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

Step = Callable[[Params, AccountHost], Awaitable[Any]]


async def answer(services: Services, request: Request, step: Step, render: Callable[[Any], Response]) -> Response:
    host = await tenancy.account_host(request, services)
    try:
        params = await param_reader.from_body(request)
        result = await step(params, host)
    except ClientAuthenticationFailed as error:
        return responses.oauth_error(error, basic_challenge=error.used_basic)
    except OAuthError as error:
        return responses.oauth_error(error)
    return render(result)
