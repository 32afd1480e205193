"""POST /oauth/tokens: the token endpoint (RFC 6749 section 3.2); rules in protocol/token_endpoint.py."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import token_endpoint
from tessera.protocol.client_auth import ClientAuthenticationFailed
from tessera.protocol.errors import OAuthError
from tessera.web import params as param_reader
from tessera.web import responses, tenancy
from tessera.web.services import Services


async def token(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    try:
        params = await param_reader.from_body(request)
        body = await token_endpoint.exchange(
            params.values,
            params.repeated,
            request.headers.get("authorization"),
            host.account,
            host.issuer,
            services.now(),
            services.grants,
        )
    except ClientAuthenticationFailed as error:
        return responses.oauth_error(error, basic_challenge=error.used_basic)
    except OAuthError as error:
        return responses.oauth_error(error)
    # RFC 6749 section 5.1: 200, and "Cache-Control: no-store" with "Pragma: no-cache".
    return responses.json(body, 200, responses.NO_STORE)
