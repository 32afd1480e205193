"""GET|POST /access/logout: sign out, then go back (INTERFACE.md section 4).

Zendesk's `return_to`, and OpenID Connect RP-Initiated Logout 1.0 (`client_id`,
`post_logout_redirect_uri`, `state`). A destination is followed only when it is a
registered redirect URI (of that client, or for return_to of any client usable here);
anything else is ignored and the signed-out page shows, so logout is never an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera.protocol import id_token, redirect_uri
from tessera.protocol.errors import InvalidRequest
from tessera.web import audit_trail, pages, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


def _with_state(uri: str, state: str | None) -> str:
    if state is None:
        return uri
    parts = urlsplit(uri)
    query = urlencode({"state": state})
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


async def _destination(services: Services, host: AccountHost, params: Params) -> str | None:
    post_logout = params.get("post_logout_redirect_uri")
    if post_logout is not None:
        client_id = params.get("client_id")
        hint = params.get("id_token_hint")
        if hint:
            hinted = id_token.audience_of_hint(hint, await services.keys.published(host.account.id), host.issuer)
            if hinted is None or (client_id is not None and client_id != hinted):
                return None
            client_id = hinted
        client = await services.stores.clients.find(host.account.id, client_id) if client_id else None
        if client is not None and any(redirect_uri.matches(post_logout, r) for r in client.redirect_uris):
            return _with_state(post_logout, params.get("state"))
        return None
    return_to = params.get("return_to")
    if return_to and await services.stores.clients.redirect_uri_registered(host.account.id, return_to):
        return return_to
    return None


async def logout(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    try:
        params = param_reader.from_query(request)
        if request.method == "POST":
            body = await param_reader.from_body(request, allow_json=False)
            params = Params(values={**params.values, **body.values}, repeated=params.repeated | body.repeated)
    except InvalidRequest:
        params = Params(values={}, repeated=frozenset())
    destination = await _destination(services, host, params)
    response: Response
    if destination is not None:
        response = RedirectResponse(
            destination, 303 if request.method == "POST" else 302, headers=pages.redirect_headers()
        )
    else:
        response = pages.render(services.templates, "signed_out.html", account_name=host.account.name)
    await sessions.end(request, response, services, await audit_trail.sign_out(services, request, host.account))
    return response
