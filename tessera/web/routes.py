"""The route table: every path Tessera serves, in one place (INTERFACE.md section 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tessera.web.api import users
from tessera.web.api.authentication import endpoint as api
from tessera.web.endpoints import authorize, home, login, logout, token
from tessera.web.pages import STATIC
from tessera.web.services import Services


def _api_paths(path: str) -> tuple[str, str]:
    """Every /api/v2 path works with and without the .json suffix."""
    return path, path + ".json"


def routes(services: Services) -> list[BaseRoute]:
    def bind(fn: Callable[[Services, Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        return partial(fn, services)

    table: list[BaseRoute] = [
        Route("/", bind(home.home), methods=["GET"]),
        Route("/oauth/authorizations/new", bind(authorize.new), methods=["GET"]),
        Route("/oauth/authorizations", bind(authorize.decide), methods=["POST"]),
        Route("/oauth/tokens", bind(token.token), methods=["POST"]),
        Route("/access/login", bind(login.show), methods=["GET"]),
        Route("/access/login", bind(login.submit), methods=["POST"]),
        Route("/access/logout", bind(logout.logout), methods=["GET", "POST"]),
        Mount("/assets", app=StaticFiles(directory=STATIC), name="assets"),
    ]
    for path in _api_paths("/api/v2/users/me"):
        table.append(Route(path, bind(api(users.me, scope="users:read")), methods=["GET"]))
    return table
