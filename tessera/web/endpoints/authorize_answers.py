"""What the authorization endpoint answers with (web/endpoints/authorize.py decides which):
the error page shown while no redirect URI is trusted, the way to the sign-in page and back,
the consent page, and the response delivered to the client in its response mode.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import i18n, paths
from tessera.protocol import authorization, authorization_response, redirect_uri, resource_indicators, response_modes
from tessera.protocol import scopes as scope_rules
from tessera.protocol.authorization import AuthorizationRequest
from tessera.protocol.authorization_trust import PageError, Reply
from tessera.protocol.errors import InvalidRequest
from tessera.web import locales, pages, sessions
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

FORM_FIELDS = ("authenticity_token", "decision")


def page_error(services: Services, request: Request, host: AccountHost | None, error: PageError) -> Response:
    """400: the page for a request that cannot be trusted (the details are for the developer,
    in English), with no redirect; `host` None on the platform host, which is no account's."""
    return pages.render(
        services.templates,
        request,
        "authorization_error.html",
        400,
        title=error.title,
        text=error.message,
        registered=error.registered,
        account_name=None if host is None else host.account.name,
    )


def deliver(
    services: Services, http: Request, reply: Reply, response_params: dict[str, str], after_post: bool
) -> Response:
    """Send the response to the client in its response mode; 303 after a POST, never 307."""
    if reply.response_mode == "form_post":
        return pages.render(
            services.templates, http, "form_post.html", script=True, action=reply.redirect_uri, fields=response_params
        )
    location = response_modes.redirect_location(reply, response_params)
    return RedirectResponse(location, 303 if after_post else 302, headers=pages.redirect_headers())


# The way to the sign-in page carries the whole request, encoded once more. 8 KB is the
# longest request line that common proxies pass by default (nginx's header buffers), and it
# leaves this server's own limit (TESSERA_MAX_HEADER_BYTES, 16 KB with the headers) room for
# cookies: a longer way would fail at the sign-in page, where the client never hears of it.
MAX_LOGIN_URL = 8192


def login_location(params: Params, step: str, login_hint: str | None = None, ui_locales: str | None = None) -> str:
    """The sign-in page's URL, with the request to come back to. `login_hint`, `ui_locales`:
    the request's, when `params` (what the return trip carries) is not the request itself (a
    pushed one). InvalidRequest when it would be too long to follow."""
    back = paths.AUTHORIZE + "?" + urlencode(authorization.params_after_login(params.values))
    query = {"return_to": back}
    if step == authorization.SELECT_ACCOUNT:
        query["select_account"] = "1"
    hint = login_hint or params.get("login_hint")
    if hint:
        query["email"] = hint
    query |= _ui_locales(ui_locales or params.get(locales.UI_LOCALES))
    location = paths.LOGIN + "?" + urlencode(query)
    if len(location) > MAX_LOGIN_URL:
        raise InvalidRequest(
            f"the authorization request is too long to carry through the sign-in page ({len(location)} bytes "
            f"once encoded, at most {MAX_LOGIN_URL}): push it to the pushed_authorization_request_endpoint "
            "(RFC 9126) and send its request_uri instead, or shorten it"
        )
    return location


def to_login(
    params: Params,
    step: str,
    login_hint: str | None = None,
    ui_locales: str | None = None,
    *,
    after_post: bool = False,
) -> Response:
    """The redirect to login_location; 303 after a POST."""
    location = login_location(params, step, login_hint, ui_locales)
    return RedirectResponse(location, 303 if after_post else 302, headers=pages.redirect_headers())


def _ui_locales(value: str | None) -> dict[str, str]:
    """The sign-in page's `ui_locales` parameter (OIDC Core 1.0 section 3.1.2.1), so that it
    speaks the app's language too: the request's value when it names a language we have."""
    return {locales.UI_LOCALES: value} if value and i18n.preferred(value) else {}


async def _resource_lines(services: Services, host: AccountHost, audience: tuple[str, ...]) -> list[str]:
    """What the consent page says the token will be for, when the app asked (RFC 8707):
    each resource by name and URI; nothing when it is the account's API alone."""
    if not audience:
        return []
    found = await services.stores.resources.find(host.account.id, audience)
    api = resource_indicators.account_api(host.issuer)
    return [
        f"{host.account.name} API" if uri == api else f"{found[uri].name} ({uri})" if uri in found else uri
        for uri in audience
    ]


async def consent_page(
    services: Services,
    http_request: Request,
    host: AccountHost,
    request: AuthorizationRequest,
    params: Params,
    current: sessions.CurrentSession,
    ui_locales: str | None,
) -> Response:
    user = await services.stores.users.get(host.account.id, current.user_id)
    return pages.render(
        services.templates,
        http_request,
        "consent.html",
        account_name=host.account.name,
        client=request.client,
        document_host=redirect_uri.display_host(request.client.identifier)
        if request.client.registration == "metadata_document"
        else "",
        user=user,
        scope_lines=scope_rules.describe(request.scopes, locales.choose(http_request).gettext),
        resource_lines=await _resource_lines(services, host, request.audience),
        redirect_host=redirect_uri.display_host(request.reply.redirect_uri),
        switch_account_url=paths.LOGIN
        + "?"
        + urlencode(
            {
                "return_to": paths.AUTHORIZE + "?" + urlencode(params.values),
                **_ui_locales(ui_locales),
            }
        ),
        # The form's own fields are never echoed from the request: a request carrying
        # decision=allow would otherwise turn a click on Deny into consent.
        fields={k: v for k, v in params.values.items() if k not in FORM_FIELDS},
        authenticity_token=sessions.authenticity_token(services, current),
    )


async def issue(
    services: Services,
    http: Request,
    host: AccountHost,
    request: AuthorizationRequest,
    current: sessions.CurrentSession,
    after_post: bool,
) -> Response:
    who = authorization_response.Authorized(host.account.id, current.user_id, current.session.auth_time)
    response_params = await authorization_response.respond(
        request,
        who,
        issuer=host.issuer,
        now=services.now(),
        code_lifetime=services.settings.authorization_code_lifetime,
        codes=services.stores.codes,
        tokens=services.stores.tokens,
        keys=services.keys,
    )
    return deliver(services, http, request.reply, response_params, after_post)
