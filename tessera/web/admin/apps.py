"""Console: external apps, the global clients that users of this account authorized
(INTERFACE.md section 6, "Third-party apps"). Revoking, after a confirmation page, ends
every token and consent of the app in this account; its users must authorize it again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import global_clients
from tessera.model import Client
from tessera.reasons import N_
from tessera.web.admin.common import Console, console_page, done, page, record
from tessera.web.admin.forms import read_form

LIST = paths.ADMIN_APPS


@console_page
async def index(console: Console, request: Request) -> Response:
    apps = await global_clients.authorized(console.services.stores, console.account, limit=100, now=console.now())
    return await page(console, "admin/apps.html", section="apps", title=console.said(N_("External apps")), apps=apps)


async def _app(console: Console, request: Request) -> Client:
    async def find(client_id: int) -> Client:
        return await global_clients.get(console.services.stores, console.account, client_id, console.now())

    missing = (N_("App not found"), N_("No user of this account has authorized that app."))
    return await record(console, request, "client_id", find, missing)


@console_page
async def confirm_revoke(console: Console, request: Request) -> Response:
    app = await _app(console, request)
    return await page(
        console,
        "admin/app_revoke.html",
        section="apps",
        title=console.said(N_("Revoke %(app)s"), app=app.name),
        app=app,
    )


@console_page
async def revoke(console: Console, request: Request) -> Response:
    app = await _app(console, request)
    await read_form(console, request)  # for its CSRF check: the form carries nothing else
    await global_clients.revoke(console.services.stores, console.account, app.id, console.actor, console.now())
    text = console.said(N_("%(app)s no longer has access to this account; its tokens were revoked."), app=app.name)
    return await done(console, LIST, text)
