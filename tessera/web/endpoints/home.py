"""GET / on an account host: who is signed in, with links to sign in or out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.web import pages, sessions, tenancy
from tessera.web.services import Services
from tessera.web.tenancy import PlatformHost


async def home(services: Services, request: Request) -> Response:
    host = await tenancy.resolve(request, services)
    if isinstance(host, PlatformHost):
        return pages.render(
            services.templates, request, "platform_home.html", base_domain=services.settings.base_domain
        )
    current = await sessions.current(request, services, host.account)
    user = None if current is None else await services.stores.users.get(host.account.id, current.user_id)
    return pages.render(
        services.templates, request, "home.html", account_name=host.account.name, user=user, issuer=host.issuer
    )
