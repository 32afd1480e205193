"""Console: external apps, the global clients that users of this account authorized
(INTERFACE.md section 6, "Third-party apps"). Revoking, after a confirmation page, ends
every token and consent of the app in this account; its users must authorize it again.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import global_clients
from tessera.management.errors import NotFound
from tessera.model import Client
from tessera.web.admin.common import Console, done, enter, message, page, read_form, whole
from tessera.web.services import Services

LIST = paths.ADMIN_APPS


async def index(services: Services, request: Request) -> Response:
    console = await enter(services, request)
    if isinstance(console, Response):
        return console
    apps = await global_clients.authorized(services.stores, console.account, limit=100, now=console.now())
    return await page(console, "admin/apps.html", section="apps", title="External apps", apps=apps)


async def _app(console: Console, request: Request) -> Client | Response:
    client_id = whole(str(request.path_params.get("client_id", "")))
    try:
        if client_id is None:
            raise NotFound("no such app")
        return await global_clients.get(console.services.stores, console.account, client_id, console.now())
    except NotFound:
        return message(console, "App not found", "No user of this account has authorized that app.", 404)


async def confirm_revoke(services: Services, request: Request) -> Response:
    console = await enter(services, request)
    if isinstance(console, Response):
        return console
    app = await _app(console, request)
    if isinstance(app, Response):
        return app
    return await page(console, "admin/app_revoke.html", section="apps", title=f"Revoke {app.name}", app=app)


async def revoke(services: Services, request: Request) -> Response:
    console = await enter(services, request)
    if isinstance(console, Response):
        return console
    app = await _app(console, request)
    if isinstance(app, Response):
        return app
    form = await read_form(console, request)
    if isinstance(form, Response):
        return form
    await global_clients.revoke(services.stores, console.account, app.id, console.actor, console.now())
    return await done(console, LIST, f"{app.name} no longer has access to this account; its tokens were revoked.")
