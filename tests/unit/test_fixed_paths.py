"""tessera/web/fixed_paths.py: the routes at the fixed paths it is given are served without
Starlette's router and middleware, and every answer (errors included) is the one plain
Starlette gives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.web.exact_path_router import ExactPathRouter
from tessera.web.fixed_paths import FixedPathsApp
from tests.support import count_routed


class Refused(Exception):
    pass


class RefusedLoudly(Refused):
    pass


async def hello(request: Request) -> Response:
    return PlainTextResponse(f"hello {request.method} {request.url.path}", headers={"X-Route": "hello"})


async def echo(request: Request) -> Response:
    return JSONResponse({"body": (await request.body()).decode(), "params": dict(request.path_params)})


async def refuse(request: Request) -> Response:
    raise Refused("no")


async def refuse_loudly(request: Request) -> Response:
    raise RefusedLoudly("no!")


async def teapot(request: Request) -> Response:
    raise HTTPException(418)


async def forbidden(request: Request) -> Response:
    raise HTTPException(403)


async def crash(request: Request) -> Response:
    raise ZeroDivisionError("boom")


def _routes() -> list[Route]:
    return [
        Route("/hello", hello, methods=["GET"]),
        Route("/not-listed", hello, methods=["GET"]),
        Route("/echo", echo, methods=["POST"]),
        Route("/items/{item:int}", echo, methods=["POST"]),
        Route("/refuse", refuse, methods=["GET"]),
        Route("/refuse-loudly", refuse_loudly, methods=["GET"]),
        Route("/teapot", teapot, methods=["GET"]),
        Route("/forbidden", forbidden, methods=["GET"]),
        Route("/crash", crash, methods=["GET"]),
    ]


def _handler(name: str, status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        return JSONResponse({"handler": name, "error": type(exc).__name__}, status)

    return handle


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse({"handler": "http", "status": status}, status)


HANDLERS: dict[Any, Any] = {
    Refused: _handler("refused", 409),
    RefusedLoudly: _handler("refused-loudly", 410),
    HTTPException: http_error,
    418: _handler("teapot", 418),
    Exception: _handler("server-error", 500),
}


FIXED = ("/hello", "/echo", "/refuse", "/refuse-loudly", "/teapot", "/forbidden", "/crash")


def _app(kind: type[Starlette]) -> Starlette:
    app = (
        FixedPathsApp(FIXED, exception_handlers=HANDLERS)
        if kind is FixedPathsApp
        else kind(exception_handlers=HANDLERS)
    )
    app.router = ExactPathRouter(_routes())
    return app


REQUESTS = [
    ("GET", "/hello", b""),
    ("HEAD", "/hello", b""),
    ("POST", "/hello", b""),  # 405: the route takes GET
    ("POST", "/echo", b"a=1"),
    ("GET", "/not-listed", b""),  # a fixed path the app did not name: Starlette's router
    ("POST", "/items/7", b"x"),  # a path with a parameter: Starlette's router
    ("GET", "/nowhere", b""),  # 404
    ("GET", "/refuse", b""),
    ("GET", "/refuse-loudly", b""),  # the most specific handler
    ("GET", "/teapot", b""),  # an HTTPException's status handler first
    ("GET", "/forbidden", b""),  # else the HTTPException class handler
    ("GET", "/crash", b""),  # the Exception handler: 500
]


async def _answers(app: ASGIApp) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for method, path, body in REQUESTS:
            response = await client.request(method, path, content=body)
            answers.append((response.status_code, sorted(response.headers.multi_items()), response.content))
    return answers


def test_every_answer_is_plain_starlettes() -> None:
    fixed, plain = asyncio.run(_answers(_app(FixedPathsApp))), asyncio.run(_answers(_app(Starlette)))
    assert fixed == plain
    statuses = [status for status, _, _ in fixed]
    assert statuses == [200, 200, 405, 200, 200, 200, 404, 409, 410, 418, 403, 500]


def test_fixed_paths_do_not_pass_through_the_router() -> None:
    app = _app(FixedPathsApp)
    routed = count_routed(app)
    asyncio.run(_answers(app))
    # The 405, the path not named, the parameter, the 404.
    assert routed == ["/hello", "/not-listed", "/items/7", "/nowhere"]


def test_an_unexpected_error_is_answered_500_and_raised_for_the_server_to_log() -> None:
    async def call() -> None:
        transport = httpx.ASGITransport(app=_app(FixedPathsApp))  # raises what the app raises
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/crash")

    with pytest.raises(ZeroDivisionError):
        asyncio.run(call())


def test_the_apps_middleware_wraps_fixed_paths_and_sees_the_route() -> None:
    seen: list[tuple[str, int]] = []

    class Watch:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    route = scope.get("route")
                    seen.append((getattr(route, "path", "unmatched"), message["status"]))
                await send(message)

            await self.app(scope, receive, sending)

    app = _app(FixedPathsApp)
    app.add_middleware(Watch)
    asyncio.run(_answers(app))
    assert ("/hello", 200) in seen
    assert ("/refuse", 409) in seen
    assert ("/crash", 500) in seen
    assert ("/items/{item:int}", 200) in seen
    assert len(seen) == len(REQUESTS)
