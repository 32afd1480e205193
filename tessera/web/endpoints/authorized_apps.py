"""GET /access/apps, GET|POST /access/apps/revoke: the signed-in user's authorized apps.

Every client the user granted, with its scopes, when it was allowed and last used (in the
reader's locale, web/dates.py); Revoke leads to a page that asks to confirm (a form, so it
works without JavaScript), whose POST withdraws the consent and revokes every token the
client holds for the user, so the next authorization asks again (RFC 6749 section 10.3's
"revoke ... at any time").
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidRequest
from tessera.protocol.numbers import whole_number
from tessera.reasons import N_
from tessera.storage.consents import AuthorizedApp
from tessera.web import audit_trail, dates, locales, pages, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.services import Services


def _to_login() -> Response:
    return RedirectResponse(paths.LOGIN + "?" + urlencode({"return_to": paths.AUTHORIZED_APPS}), 302)


async def _revoked_name(services: Services, account_id: int, raw: str | None, apps: list[AuthorizedApp]) -> str | None:
    """The name for "X no longer has access": only a real client the user does not grant now,
    so that the page never repeats text from the URL."""
    client_id = whole_number(raw)
    if client_id is None:
        return None
    client = await services.stores.clients.find_by_numeric_id(account_id, client_id)
    if client is None or any(app.client.id == client.id for app in apps):
        return None
    return client.name


async def show(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login()
    apps = await services.stores.consents.authorized_apps(host.account.id, current.user_id)
    revoked = await _revoked_name(services, host.account.id, request.query_params.get("revoked"), apps)
    choice, now = locales.choose(request), services.now()
    locale = choice.locale
    rows = [
        {
            "client": app.client,
            "scope_lines": scope_rules.describe(app.grant.scopes, choice.gettext),
            "granted": dates.shown(app.grant.created_at, now, locale),
            "last_used": None if app.last_used_at is None else dates.shown(app.last_used_at, now, locale),
        }
        for app in apps
    ]
    return pages.render(
        services.templates,
        request,
        "authorized_apps.html",
        account_name=host.account.name,
        apps=rows,
        revoked=revoked,
        authenticity_token=sessions.authenticity_token(services, current),
    )


async def confirm_revoke(services: Services, request: Request) -> Response:
    """GET /access/apps/revoke?client_id=N: what revoking will do, and the button that does it."""
    host = await tenancy.account_host(request, services)
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login()
    apps = await services.stores.consents.authorized_apps(host.account.id, current.user_id)
    client_id = whole_number(request.query_params.get("client_id"))
    app = next((app for app in apps if app.client.id == client_id), None)
    if app is None:
        return pages.message(
            services.templates,
            request,
            N_("This app is not authorized"),
            N_("It may have been revoked already. Your authorized apps are listed on the apps page."),
            404,
            account_name=host.account.name,
            way_out=(paths.AUTHORIZED_APPS, N_("Back to authorized apps")),
        )
    return pages.render(
        services.templates,
        request,
        "authorized_app_revoke.html",
        account_name=host.account.name,
        client=app.client,
        scope_lines=scope_rules.describe(app.grant.scopes, locales.choose(request).gettext),
        authenticity_token=sessions.authenticity_token(services, current),
    )


async def revoke(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login()
    try:
        form = await param_reader.from_body(request, allow_json=False)
    except InvalidRequest as error:
        return pages.unreadable_form(services.templates, request, error.description, account_name=host.account.name)
    if not sessions.valid_authenticity_token(services, current, form.get("authenticity_token")):
        return pages.message(
            services.templates,
            request,
            N_("This page has expired"),
            N_("Reload the page and try again."),
            403,
            account_name=host.account.name,
        )
    client_id = whole_number(form.get("client_id"))
    client = None if client_id is None else await services.stores.clients.find_by_numeric_id(host.account.id, client_id)
    if client is None:
        return pages.message(
            services.templates,
            request,
            N_("Unknown app"),
            N_("That app is not authorized on your account."),
            404,
            account_name=host.account.name,
        )
    await services.stores.consents.forget(
        current.user_id,
        client.id,
        services.now(),
        await audit_trail.consent_withdrawn(services, request, host.account, current.user_id, client),
    )
    return RedirectResponse(paths.AUTHORIZED_APPS + "?" + urlencode({"revoked": client.id}), 303)
