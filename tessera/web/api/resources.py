"""The Resources API (INTERFACE.md section 8, RFC 8707): /api/v2/oauth/resources(.json) and
/{id}(.json): list, register, show, delete the protected resources the account's tokens
may be for, besides its own API. Admins only (web/api/admin.py); reading needs
clients:read (or read), changing clients:write (or write), as OAuth configuration.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import resources as resource_rules
from tessera.management.shapes import resource_json
from tessera.web import responses
from tessera.web.api import bodies, paging
from tessera.web.api.admin import actor, path_id
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

KEY = "resource"
EXAMPLE = '{"resource": {"uri": "https://mcp.example.com/mcp", "name": "Tools", "scopes": ["tickets:read"]}}'
SETTABLE = ("uri", "name", "scopes")
READ_ONLY = ("id", "url", "created_at")


async def list_resources(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    size, after = paging.request(request.query_params)
    found = await resource_rules.list_for_account(services.stores, host.account, after_id=after, limit=size + 1)
    url = f"{host.issuer}{paths.API_RESOURCES}.json"
    return responses.json(paging.listing("resources", found, size, url, lambda r: resource_json(r, host.issuer)))


async def create_resource(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    spec = await bodies.member(request, KEY, EXAMPLE)
    bodies.refuse_unknown(spec, KEY, SETTABLE, READ_ONLY)
    wanted = resource_rules.ResourceSpec(
        uri=bodies.string(spec, KEY, "uri") or "",
        name=bodies.string(spec, KEY, "name", null_as="") or "",
        scopes=bodies.strings(spec, KEY, "scopes", separator=None) or (),
    )
    resource = await resource_rules.create(
        services.stores, host.account, host.issuer, wanted, services.now(), actor(request, caller)
    )
    headers = {"Location": f"{host.issuer}{paths.API_RESOURCES}/{resource.id}.json"}
    return responses.json({KEY: resource_json(resource, host.issuer)}, 201, headers)


async def show_resource(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    resource = await resource_rules.get(services.stores, host.account, path_id(request, "resource_id", "resource"))
    return responses.json({KEY: resource_json(resource, host.issuer)})


async def delete_resource(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    resource_id = path_id(request, "resource_id", "resource")
    await resource_rules.delete(services.stores, host.account, resource_id, actor(request, caller), services.now())
    return Response(status_code=204)
