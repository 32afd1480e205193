"""The platform host's account chooser for global clients (INTERFACE.md "The platform host").

A global client sends the user to the bare base domain, which does not know the account.
The chooser asks for the subdomain and forwards the unchanged request to that account's
authorization endpoint; the response's `iss` (RFC 9207) then tells the client which
account answered.

Its Cancel posts the request to POST /oauth/authorizations on the platform host, the path
of the consent form's Deny: the user goes back to the client with `error=access_denied`
(RFC 6749 section 4.1.2.1), only at a redirect URI registered for that global client, and
with `iss` the platform host's own address, since no account answered. Like Deny it is a
POST answered with 303, so no link or prefetch sends it. Unlike the consent form it
carries no CSRF token: it changes nothing on the server and sends the browser only where a
plain link to the client's own redirect URI could, and the platform host has no session to
bind a token to.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.protocol import authorization_response, authorization_trust
from tessera.protocol.authorization_trust import PageError
from tessera.protocol.errors import AccessDenied, InvalidRequest
from tessera.reasons import N_
from tessera.urls import account_host, origin
from tessera.web import locales, pages
from tessera.web import params as param_reader
from tessera.web.endpoints import authorize_answers as answers
from tessera.web.services import Services
from tessera.web.tenancy import PlatformHost

CANCEL = "cancel"  # the `decision` of the chooser's Cancel button (chooser.html), as the consent form sends its own


def _original_pairs(request: Request) -> list[tuple[str, str]]:
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        return parse_qsl(query, keep_blank_values=True, max_num_fields=100)
    except ValueError:
        return []


def _chooser(
    services: Services,
    request: Request,
    pairs: list[tuple[str, str]],
    status: int,
    error: str | None,
    client_name: str | None,
) -> Response:
    return pages.render(
        services.templates,
        request,
        "chooser.html",
        status,
        fields=[(k, v) for k, v in pairs if k != "subdomain"],
        error=error,
        client_name=client_name,
        base_domain=services.settings.base_domain,
        action=paths.AUTHORIZE,
        # What was typed stays in the field after an error, to be corrected rather than retyped.
        subdomain=dict(pairs).get("subdomain", "").strip()[:63],
    )


def _not_global(services: Services, request: Request, client_id: str) -> Response:
    text = (
        "The platform address serves only global OAuth clients, and this request names "
        + (f"the client {client_id[:60]!r}, which is not one." if client_id else "no client (client_id is missing).")
        + " If your application belongs to one account, send users to that account's own address."
    )
    return answers.page_error(services, request, None, PageError("Unknown client", text))


def _subdomain_of(typed: str, base_domain: str) -> str:
    """The account a user typed: its name (acme), or its address as they see it in their
    browser (acme.example.com, https://acme.example.com:8443/...)."""
    name = typed.strip().lower()
    name = name.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].rstrip(".")
    suffix = "." + base_domain
    return name[: -len(suffix)] if name.endswith(suffix) else name


async def chooser(services: Services, request: Request, host: PlatformHost) -> Response:
    pairs = _original_pairs(request)
    values = dict(pairs)
    client_id = values.get("client_id", "")
    client = await services.stores.clients.find_global(client_id) if client_id else None
    if client is None:
        return _not_global(services, request, client_id)
    # The redirect URI is checked before the user is asked anything, as an account host
    # checks it (RFC 6749 section 4.1.2.1): a request no account could answer gets its page
    # now, not after the user has typed their account.
    # Read by the same reader as the authorization endpoint's (web/params.py: repeated
    # names, blank values, NUL), so that the chooser refuses what the account would.
    try:
        sent = param_reader.from_query(request)
        authorization_trust.reply_to(sent.values, sent.repeated, client)
    except InvalidRequest as error:
        return answers.page_error(services, request, None, PageError("Invalid request", error.description))
    except PageError as error:
        return answers.page_error(services, request, None, error)
    subdomain = _subdomain_of(values.get("subdomain", ""), services.settings.base_domain)
    if not subdomain:
        return _chooser(services, request, pairs, 200, None, client.name)
    account = await services.stores.accounts.by_subdomain(subdomain)
    if account is None:
        said = locales.choose(request).gettext
        return _chooser(
            services,
            request,
            pairs,
            200,
            said(N_("There is no account named '%(name)s'. Check the spelling and try again."))
            % {"name": subdomain[:63]},
            client.name,
        )
    forwarded = urlencode([(k, v) for k, v in pairs if k != "subdomain"])
    target = (
        origin(services.settings.scheme, account_host(account.subdomain, services.settings.base_domain)) + host.port
    )
    return RedirectResponse(f"{target}{paths.AUTHORIZE}?{forwarded}", 302, headers=pages.redirect_headers())


async def cancel(services: Services, request: Request, host: PlatformHost) -> Response:
    """POST /oauth/authorizations on the platform host: the chooser's Cancel (see the module's
    docstring). The client and its redirect URI are checked as the account hosts check them
    (authorization_trust.py): until both pass, a page and never a redirect."""
    try:
        form = await param_reader.from_body(request, allow_json=False)
    except InvalidRequest as error:
        return pages.unreadable_form(services.templates, request, error.description)
    locales.hint(request, form.get(locales.UI_LOCALES))  # the chooser's form carries the request's
    if form.get("decision") != CANCEL or "decision" in form.repeated:
        problem = "The account chooser's form must be sent with decision=cancel, once."
        return answers.page_error(services, request, None, PageError("Invalid request", problem))
    client_id = form.get("client_id") or ""
    client = await services.stores.clients.find_global(client_id) if client_id else None
    if client is None:
        return _not_global(services, request, client_id)
    try:
        authorization_trust.client_id_of(form.values, form.repeated)
        reply = authorization_trust.reply_to(form.values, form.repeated, client)
    except PageError as error:
        return answers.page_error(services, request, None, error)
    denied = AccessDenied("the user cancelled at the account chooser, before choosing an account")
    # RFC 9207 section 2: every response carries iss, errors too; no account answered, so it
    # is the address the client sent the user to, which is not an account's issuer.
    response_params = authorization_response.error_params(denied, reply, host.origin)
    return answers.deliver(services, request, reply, response_params, after_post=True)
