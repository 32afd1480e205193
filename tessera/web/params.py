"""Reading request parameters once, at the edge: query strings, form and JSON bodies.

RFC 6749 section 3.1: parameters sent without a value "MUST be treated as if they were
omitted", and "MUST NOT be included more than once". Parsing returns the values and the
names that were repeated, for the protocol to refuse. The one parameter that may be
repeated, `resource` (RFC 8707 section 2), keeps every value, joined with spaces (which no
absolute URI contains), so that it travels as one value through the login and consent
pages; protocol/resource_indicators.py splits it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from tessera.protocol.errors import InvalidRequest
from tessera.protocol.numbers import whole_number
from tessera.web.headers import header

MAX_BODY = 64 * 1024
MAX_FIELDS = 100
# RFC 8707 section 2: "multiple resource parameters MAY be used".
MULTI_VALUED = frozenset({"resource"})


@dataclass(frozen=True, slots=True)
class Params:
    values: dict[str, str]
    repeated: frozenset[str]

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def _collect(pairs: list[tuple[str, str]]) -> Params:
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            # No parameter of ours may hold NUL, and PostgreSQL refuses it in text.
            raise InvalidRequest(f"the parameter {name[:40]!r} contains a NUL character")
        if value == "":
            continue
        if name in values:
            if name in MULTI_VALUED:
                values[name] += " " + value
            else:
                repeated.add(name)
            continue
        values[name] = value
    return Params(values=values, repeated=frozenset(repeated))


def _split_plain(text: str) -> list[tuple[str, str]]:
    """parse_qsl's answer for text with nothing to decode (no '%', no '+'), as most token
    requests are, at a fifth of its cost."""
    parts = text.split("&")
    if len(parts) > MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    return [(name, value) for name, _, value in (part.partition("=") for part in parts if part)]


def _parse_urlencoded(text: str) -> Params:
    try:
        if "%" in text or "+" in text:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
        else:
            pairs = _split_plain(text)
    except UnicodeDecodeError:
        # A percent-escape that is not UTF-8 (%ff): say so, not the codec's own words.
        raise InvalidRequest("the parameters are not valid UTF-8 once percent-decoded (such as %ff)") from None
    except ValueError as error:
        raise InvalidRequest(f"the parameters could not be read: {error}") from None
    return _collect(pairs)


def from_query(request: Request) -> Params:
    return _parse_urlencoded(request.scope.get("query_string", b"").decode("latin-1"))


def _json_value(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        raise InvalidRequest(f"{name} must be a string or a number in the JSON body")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    raise InvalidRequest(f"{name} must be a string or a number in the JSON body, not a list or an object")


def _json_pairs(name: str, value: Any) -> list[tuple[str, str]]:
    """A JSON member as parameters: a list only for a parameter that may be repeated."""
    if name in MULTI_VALUED and isinstance(value, list):
        return [(name, _json_value(name, item)) for item in value if item != ""]
    return [(name, _json_value(name, value))]


def json_problem(error: orjson.JSONDecodeError) -> str:
    """Why a body is not JSON that can be read, and where: the parser's reason ("unexpected
    end of data", "number is infinity when parsed as double") and the character it stopped
    at. A number beyond a double is valid JSON by RFC 8259's grammar, so "not JSON" alone
    would mislead."""
    return f"the body is not JSON that can be read: {error.msg} at character {error.pos}"


async def read_body(request: Request) -> bytes:
    """The body, refused past MAX_BODY bytes, and kept so that a second reader sees it too."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is not None:
        return cached
    declared = header(request, b"content-length")
    length = whole_number(declared)
    if length is not None and length > MAX_BODY:
        raise InvalidRequest(f"the request body is larger than {MAX_BODY} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidRequest(f"the request body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's own Request.body() caches in this attribute; stream() replays it.
    request._body = body
    return body


def media_type(request: Request) -> str:
    """The request's Content-Type without its parameters, lower-cased; "" when none."""
    return (header(request, b"content-type") or "").split(";", 1)[0].strip().lower()


async def from_body(request: Request, *, allow_json: bool = True) -> Params:
    """A form (application/x-www-form-urlencoded) or, where allowed, JSON object body."""
    body = await read_body(request)
    kind = media_type(request)
    if not body:
        return Params(values={}, repeated=frozenset())
    if kind == "application/x-www-form-urlencoded":
        try:
            return _parse_urlencoded(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidRequest("the form body is not valid UTF-8") from None
    if kind == "application/json" and allow_json:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise InvalidRequest(json_problem(error)) from None
        if not isinstance(document, dict):
            raise InvalidRequest("the JSON body must be an object of parameters")
        return _collect([pair for k, v in document.items() if v != "" for pair in _json_pairs(str(k), v)])
    accepted = "application/x-www-form-urlencoded" + (" or application/json" if allow_json else "")
    raise InvalidRequest(f"Content-Type {kind or '(none)'!r} is not supported; send {accepted}")
