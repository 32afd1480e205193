"""GET /.well-known/openid-configuration and /.well-known/oauth-authorization-server, and
GET /oauth/jwks: what an account supports and the keys it signs with (RFC 8414, OIDC
Discovery 1.0, RFC 7517 section 5). The platform host is not an issuer: 404 there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import discovery
from tessera.web import responses, tenancy
from tessera.web.services import Services

# Clients cache discovery and keys; a minute keeps key rotation visible promptly.
CACHE = {"Cache-Control": "public, max-age=60"}


async def configuration(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    registration = host.account.registration_policy != "off"
    return responses.json(discovery.metadata(host.issuer, registration=registration), 200, CACHE)


async def jwks(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    key_set = await services.keys.published(host.account.id)
    return responses.json(key_set.as_dict(private=False), 200, CACHE)
