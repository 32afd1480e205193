"""Third-party apps authorized on the account (INTERFACE.md section 6):
/api/v2/oauth/global_clients(.json) and /{id}(.json).

Admins only; reading needs clients:read (or read), revoking clients:write (or write).
Revoking withdraws every consent and token of the app in this account; the app itself
belongs to the platform and stays.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.management import global_clients as global_rules
from tessera.management.shapes import global_client_json
from tessera.web import responses
from tessera.web.api import paging
from tessera.web.api.admin import actor, path_id
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def list_global_clients(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    size, after = paging.request(request.query_params)
    found = await global_rules.authorized(
        services.stores, host.account, after_id=after, limit=size + 1, now=services.now()
    )
    url = f"{host.issuer}/api/v2/oauth/global_clients.json"
    shown = lambda c: global_client_json(c, host.issuer)  # noqa: E731
    return responses.json(paging.listing("global_clients", found, size, url, shown))


async def show_global_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client_id = path_id(request, "client_id", "global client")
    client = await global_rules.get(services.stores, host.account, client_id, services.now())
    return responses.json({"global_client": global_client_json(client, host.issuer)})


async def revoke_global_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client_id = path_id(request, "client_id", "global client")
    await global_rules.revoke(services.stores, host.account, client_id, actor(request, caller), services.now())
    return Response(status_code=204)
