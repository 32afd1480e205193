"""GET|POST /access/logout: sign out, then go back (INTERFACE.md section 4).

Zendesk's `return_to`, and OpenID Connect RP-Initiated Logout 1.0 (`id_token_hint`,
`client_id`, `post_logout_redirect_uri`, `state`); where to go is decided in
protocol/rp_logout.py. Logout always ends the session, whatever the parameters.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.protocol import rp_logout
from tessera.protocol.errors import InvalidRequest
from tessera.web import audit_trail, pages, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.params import Params
from tessera.web.services import Services


async def _params(request: Request) -> Params:
    """Query and, for POST, form parameters; unreadable ones count as none (logout still happens)."""
    try:
        params = param_reader.from_query(request)
        if request.method == "POST":
            body = await param_reader.from_body(request, allow_json=False)
            params = Params(values={**params.values, **body.values}, repeated=params.repeated | body.repeated)
    except InvalidRequest:
        params = Params(values={}, repeated=frozenset())
    return params


async def logout(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    params = await _params(request)
    destination = await rp_logout.destination(
        params.values, host.account.id, host.issuer, clients=services.stores.clients, keys=services.keys
    )
    response: Response
    if destination is not None:
        response = RedirectResponse(
            destination, 303 if request.method == "POST" else 302, headers=pages.redirect_headers()
        )
    else:
        response = pages.render(services.templates, request, "signed_out.html", account_name=host.account.name)
    await sessions.end(request, response, services, await audit_trail.sign_out(services, request, host.account))
    return response
