"""Reading the JSON bodies of the management API (INTERFACE.md section 6) once, at the edge.

A body that is not the documented shape (not JSON, not an object, the wrong top-level key,
a field of the wrong type, a field the resource does not have) is a BadRequest (400
invalid_request) saying what to send; a value of the right type that fails a rule is the
management layer's Invalid (422). Fields a GET answer carries but nobody sets (id, url,
created_at...) are ignored, so that what GET gave can be PUT back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request

from tessera.protocol.errors import InvalidRequest
from tessera.protocol.numbers import whole_number
from tessera.web import params


class BadRequest(Exception):
    """The body is not the documented shape; the message says what to send."""


async def read_json(request: Request, example: str, *, empty_ok: bool = False) -> Any:
    try:
        body = await params.read_body(request)
    except InvalidRequest as problem:
        raise BadRequest(problem.description) from None
    if not body.strip() and empty_ok:
        return {}  # an empty body is an empty object; the JSON null is not
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"{params.json_problem(error)}; send e.g. {example}") from None


async def member(request: Request, key: str, example: str) -> dict[str, Any]:
    """The object under the one top-level `key`, e.g. {"client": {...}}."""
    document = await read_json(request, example)
    if not isinstance(document, dict) or not isinstance(document.get(key), dict):
        raise BadRequest(f"the body must be an object with a {key} member holding an object, e.g. {example}")
    extra = sorted(k for k in document if k != key)
    if extra:
        raise BadRequest(f"the body may hold only the {key} member, not {_names(extra)}")
    value: dict[str, Any] = document[key]
    return value


def _names(keys: Iterable[str]) -> str:
    return ", ".join(repr(k[:40]) for k in list(keys)[:5])


def refuse_unknown(spec: dict[str, Any], key: str, settable: Iterable[str], ignored: Iterable[str]) -> None:
    allowed = set(settable)
    unknown = [k for k in spec if k not in allowed and k not in set(ignored)]
    if unknown:
        raise BadRequest(
            f"{key} has no field {_names(unknown)}; the fields you may send are {', '.join(sorted(allowed))}"
        )


def string(spec: dict[str, Any], key: str, name: str, *, null_as: str | None = None) -> str | None:
    """A string field; None when absent. JSON null is `null_as` where null means something
    (an empty logo_url), else a type mistake."""
    if name not in spec:
        return None
    value = spec[name]
    if value is None and null_as is not None:
        return null_as
    if not isinstance(value, str):
        raise BadRequest(f"{key}.{name} must be a string")
    return value


def strings(spec: dict[str, Any], key: str, name: str, *, separator: str | None) -> tuple[str, ...] | None:
    """A list of strings; a single string is split on `separator` (None: whitespace)."""
    if name not in spec:
        return None
    value = spec[name]
    if isinstance(value, str):
        return tuple(value.split(separator))
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{key}.{name} must be a list of strings")
    return tuple(value)


def boolean(spec: dict[str, Any], key: str, name: str) -> bool | None:
    if name not in spec:
        return None
    value = spec[name]
    if not isinstance(value, bool):
        raise BadRequest(f"{key}.{name} must be true or false")
    return value


def seconds(spec: dict[str, Any], key: str, name: str, *, words: tuple[str, ...] = ()) -> int | str | None:
    """A whole number of seconds (or a numeric string, or one of `words` such as "never")."""
    if name not in spec:
        return None
    value = spec[name]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():  # JSON numbers past 64 bits arrive as floats
        return int(value)
    if isinstance(value, str) and (value in words or whole_number(value, 12) is not None):
        return value
    also = "".join(f" or {word!r}" for word in words)
    raise BadRequest(f"{key}.{name} must be a whole number of seconds{also}")
