"""The platform host's account chooser for global clients (INTERFACE.md "The platform host").

A global client sends the user to the bare base domain, which does not know the account.
The chooser asks for the subdomain and forwards the unchanged request to that account's
authorization endpoint; the response's `iss` (RFC 9207) then tells the client which
account answered.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.reasons import N_
from tessera.urls import account_host, origin
from tessera.web import locales, pages
from tessera.web.services import Services
from tessera.web.tenancy import PlatformHost


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
        text = (
            "The platform address serves only global OAuth clients, and this request names "
            + (
                f"the client {client_id[:60]!r}, which is not one."
                if client_id
                else "no client (client_id is missing)."
            )
            + " If your application belongs to one account, send users to that account's own address."
        )
        return pages.render(
            services.templates,
            request,
            "authorization_error.html",
            400,
            title="Unknown client",
            text=text,
            registered=(),
        )
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
