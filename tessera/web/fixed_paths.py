"""Requests for chosen routes at fixed paths, served without Starlette's layers around them.

In Starlette a request passes ServerErrorMiddleware, ExceptionMiddleware, the router, the
route and its request/response wrapper, and each adds a frame, an exception wrapper or a
`send` closure: the same work on every request. Measured in process (`python -m
bench.inprocess`), about 10 µs of the 82 a client_credentials token cost. The app names
the paths served this way (web/route_table.py: the endpoints clients call with their
credentials, the token endpoint among them).

FixedPaths calls such a route's endpoint itself, with the scope keys the router would have
set, and gives what the endpoint raises to the same exception handlers, with Starlette's
rules: the most specific handler by class; an HTTPException's status handler first; the
handler of `Exception` answers 500 and the error is raised again for the server to log, as
ServerErrorMiddleware does. Every other request (a path with parameters, a method the route
does not take, a mount, lifespan) goes to Starlette's own stack. The app's middleware (the
access log, the metrics) wraps both: `FixedPathsApp.build_middleware_stack`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tessera.web.exact_path_router import ExactPathRouter

Handler = Callable[[Request, Exception], Awaitable[Response]]


def served_directly(route: Route) -> bool:
    """A route whose endpoint takes a Request and returns a Response, which Starlette wraps
    with request_response (an ASGI app given as endpoint is left to Starlette)."""
    return route.app is not route.endpoint and inspect.iscoroutinefunction(route.endpoint)


class FixedPaths:
    def __init__(
        self, router: ExactPathRouter, paths: Collection[str], handlers: Mapping[Any, Handler], fallback: ASGIApp
    ) -> None:
        self._router = router
        self._routes: dict[tuple[str, str], Route] = {}
        for path, route in router.exact_routes():
            for method in route.methods or ():
                if path in paths and served_directly(route):
                    self._routes.setdefault((method, path), route)  # the first, as Starlette's scan
        self._by_class = {key: handler for key, handler in handlers.items() if isinstance(key, type)}
        self._by_status = {key: handler for key, handler in handlers.items() if isinstance(key, int)}
        self._server_error = handlers.get(Exception) or handlers.get(500)
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = None
        if scope["type"] == "http" and not scope.get("root_path"):
            route = self._routes.get((scope["method"], scope["path"]))
        if route is None:
            await self._fallback(scope, receive, send)
            return
        # What Router and Route.matches put in the scope (url_for, the metrics' route label).
        scope.setdefault("router", self._router)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {}
        request = Request(scope, receive, send)
        try:
            response = await route.endpoint(request)
        except Exception as error:
            await self._failed(request, error, send)
            return
        await response(scope, receive, send)

    async def _failed(self, request: Request, error: Exception, send: Send) -> None:
        handler = self._handler_for(error)
        if handler is None:
            raise error
        response = await handler(request, error)
        await response(request.scope, request.receive, send)
        if handler is self._server_error:
            raise error  # answered 500; ServerErrorMiddleware raises it again, so the server logs it
        error.__traceback__ = None  # as Starlette does: a reused exception would keep growing it

    def _handler_for(self, error: Exception) -> Handler | None:
        if isinstance(error, HTTPException) and error.status_code in self._by_status:
            return self._by_status[error.status_code]
        for cls in type(error).__mro__:
            if cls in self._by_class:
                return self._by_class[cls]
        return self._server_error


class FixedPathsApp(Starlette):
    """Starlette with FixedPaths for `fixed_paths` in front of its stack, inside the app's
    own middleware."""

    router: ExactPathRouter

    def __init__(self, fixed_paths: Collection[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fixed_paths = frozenset(fixed_paths)

    def build_middleware_stack(self) -> ASGIApp:
        # Starlette's stack (without `debug` or `max_body_size`, which Tessera does not use),
        # less the app's middleware, which goes around FixedPaths instead.
        server_error = None
        handlers = {}
        for key, value in self.exception_handlers.items():
            if key in (500, Exception):
                server_error = value
            else:
                handlers[key] = value
        starlette: ASGIApp = ServerErrorMiddleware(
            ExceptionMiddleware(self.router, handlers=handlers), handler=server_error
        )
        app: ASGIApp = FixedPaths(self.router, self.fixed_paths, self.exception_handlers, starlette)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app
