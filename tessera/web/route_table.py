"""The route table: every path Tessera serves, in one place (INTERFACE.md section 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tessera.web.api import tickets, tokens, users
from tessera.web.api.authentication import endpoint as api
from tessera.web.cors import allow_any_origin, preflight
from tessera.web.endpoints import (
    authorize,
    authorized_apps,
    discovery,
    health,
    home,
    introspect,
    login,
    logout,
    revoke,
    token,
    userinfo,
)
from tessera.web.pages import STATIC
from tessera.web.services import Services


def _api_paths(path: str) -> tuple[str, str]:
    """Every /api/v2 path works with and without the .json suffix (suffixed first, so that
    `/tokens/5.json` is not read as the token id "5.json")."""
    return path + ".json", path


def routes(services: Services) -> list[BaseRoute]:
    """A flat table; web/exact_path_router.py finds the parameterless ones by dictionary lookup."""

    def bind(fn: Callable[[Services, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return partial(fn, services)

    api_v2: list[BaseRoute] = []
    for path in _api_paths("/api/v2/users/me"):
        api_v2.append(Route(path, bind(api(users.me, scope="users:read")), methods=["GET"]))
    for path in _api_paths("/api/v2/oauth/tokens"):
        api_v2.append(Route(path, bind(api(tokens.list_tokens, scope="users:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tokens.create_token, scope="users:write")), methods=["POST"]))
    for path in _api_paths("/api/v2/oauth/tokens/{token_id}"):
        api_v2.append(Route(path, bind(api(tokens.show_token, scope="users:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tokens.revoke_token, scope="users:write")), methods=["DELETE"]))
    for path in _api_paths("/api/v2/tickets"):
        api_v2.append(Route(path, bind(api(tickets.list_tickets, scope="tickets:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tickets.create_ticket, scope="tickets:write")), methods=["POST"]))
    for path in _api_paths("/api/v2/tickets/{ticket_id}"):
        api_v2.append(Route(path, bind(api(tickets.show_ticket, scope="tickets:read")), methods=["GET"]))
        api_v2.append(Route(path, bind(api(tickets.update_ticket, scope="tickets:write")), methods=["PUT"]))
        api_v2.append(Route(path, bind(api(tickets.delete_ticket, scope="tickets:write")), methods=["DELETE"]))
    return [
        # JSON endpoints that browser apps may call from any origin (web/cors.py).
        Route("/oauth/tokens", allow_any_origin(bind(token.token)), methods=["POST"]),
        Route("/oauth/introspect", allow_any_origin(bind(introspect.introspect)), methods=["POST"]),
        Route("/oauth/revoke", allow_any_origin(bind(revoke.revoke)), methods=["POST"]),
        Route("/oauth/userinfo", allow_any_origin(bind(userinfo.userinfo_endpoint)), methods=["GET", "POST"]),
        Route("/oauth/jwks", allow_any_origin(bind(discovery.jwks)), methods=["GET"]),
        *[
            Route(f"/oauth/{name}", preflight("GET, POST"), methods=["OPTIONS"])
            for name in ("tokens", "revoke", "introspect", "userinfo")
        ],
        Route("/oauth/authorizations/new", bind(authorize.new), methods=["GET"]),
        Route("/oauth/authorizations", bind(authorize.decide), methods=["POST"]),
        *api_v2,
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readiness(services.stores.db), methods=["GET"]),
        Route("/", bind(home.home), methods=["GET"]),
        Route("/access/login", bind(login.show), methods=["GET"]),
        Route("/access/login", bind(login.submit), methods=["POST"]),
        Route("/access/logout", bind(logout.logout), methods=["GET", "POST"]),
        Route("/access/apps", bind(authorized_apps.show), methods=["GET"]),
        Route("/access/apps/revoke", bind(authorized_apps.revoke), methods=["POST"]),
        Route("/.well-known/openid-configuration", allow_any_origin(bind(discovery.configuration)), methods=["GET"]),
        Route(
            "/.well-known/oauth-authorization-server",
            allow_any_origin(bind(discovery.configuration)),
            methods=["GET"],
        ),
        Mount("/assets", app=StaticFiles(directory=STATIC), name="assets"),
    ]
