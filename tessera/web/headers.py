"""One request header, read straight from the ASGI scope.

Starlette's `request.headers` builds a Headers object and encodes the name at every
lookup; every request on the hot paths reads two or three headers, so they read the
scope's list instead. ASGI servers pass header names lowercased; like Starlette's
Headers.get, the first of repeated headers is the one returned.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection


def header(request: HTTPConnection, name: bytes) -> str | None:
    """`name` in lowercase bytes, e.g. b"authorization"."""
    raw: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None


class RepeatedHeader(Exception):
    """A header that is not a list (Authorization) came more than once."""


def lone_header(request: HTTPConnection, name: bytes) -> str | None:
    """`header` for a header that must come at most once, in the same one pass over the
    list: RepeatedHeader when it came twice (which `header` would let the first win)."""
    raw: list[tuple[bytes, bytes]] = request.scope["headers"]
    found: bytes | None = None
    for key, value in raw:
        if key == name:
            if found is not None:
                raise RepeatedHeader(name.decode("latin-1"))
            found = value
    return None if found is None else found.decode("latin-1")
