"""Requests and latency per route for /metrics (tessera/metrics.py). Added to the app only
when TESSERA_METRICS=1: without it no request passes through here.

The route label is the path template the router matched (`/api/v2/users/{user_id:int}`),
never the path as sent, so that the number of series stays that of the route table;
a request no route matched counts as "unmatched".
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera import metrics

UNMATCHED = "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Labelled children by their labels: .labels() validates and takes a lock each
        # time; a dict lookup costs a fraction of that (python -m bench.inprocess --metrics).
        self._children: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client hears if the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            key = (getattr(route, "path", None) or UNMATCHED, scope["method"], str(status))
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = metrics.REQUESTS.labels(*key)
            child.observe(time.perf_counter() - started)
