"""tessera/web/cors.py's allow_any_origin: every answer of the JSON endpoints browser apps
call carries the CORS headers once each (INTERFACE.md section 5), whatever the endpoint set."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from tessera.web.cors import HEADERS, allow_any_origin
from tessera.web.responses import NO_STORE, json


def _answer(make: Response) -> list[tuple[bytes, bytes]]:
    async def endpoint(request: Request) -> Response:
        return make

    request = Request({"type": "http", "method": "POST", "path": "/oauth/tokens", "headers": []})
    response = asyncio.run(allow_any_origin(endpoint)(request))
    return list(response.raw_headers)


def test_adds_each_cors_header_once_and_keeps_the_answers_own() -> None:
    raw = _answer(json({"access_token": "t"}, headers=dict(NO_STORE)))
    names = [name for name, _ in raw]
    for name, value in HEADERS.items():
        assert names.count(name.lower().encode()) == 1
        assert (name.lower().encode(), value.encode()) in raw
    assert (b"cache-control", b"no-store") in raw
    assert (b"content-type", b"application/json") in raw


def test_replaces_a_cors_header_the_endpoint_set() -> None:
    """As MutableHeaders.update would: the policy's value wins, and appears once."""
    own = Response("x", headers={"Access-Control-Allow-Origin": "https://app.example", "X-Kept": "1"})
    raw = _answer(own)
    assert [value for name, value in raw if name == b"access-control-allow-origin"] == [b"*"]
    assert (b"x-kept", b"1") in raw
