"""The access log: method, path, status and time, never the query string.

Query strings carry codes, id_token_hint and (refused, but still sent) access tokens;
INTERFACE.md section 5 forbids any issued secret in a log line, so the path alone is
logged. uvicorn's own access log is switched off for the same reason.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tessera.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "-")
            log.info(
                '%s "%s %s" %d %.1fms',
                host,
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
