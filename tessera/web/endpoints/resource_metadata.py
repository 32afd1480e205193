"""GET /.well-known/oauth-protected-resource/api/v2 and /.well-known/oauth-protected-resource:
the account's API described as a protected resource (RFC 9728 section 3). Public and
cacheable like discovery; 404 on the platform host, which has no API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import resource_metadata
from tessera.web import responses, tenancy
from tessera.web.endpoints.discovery import CACHE
from tessera.web.services import Services


async def api_metadata(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    return responses.json(resource_metadata.metadata(host.issuer, host.account.name), 200, CACHE)
