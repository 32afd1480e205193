"""GET /api/v2/openapi.json: an OpenAPI 3.1 document of every /api/v2 endpoint
(INTERFACE.md section 6 "OpenAPI").

The paths are the route table's own (web/route_table.py), read from the running app, so
that the document cannot list a path the app does not serve nor miss one it does; what
each operation reads and answers is in openapi_operations.py, the shapes in
openapi_schemas.py. Public, like discovery: it describes the API, it holds no data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tessera.management.audit_events import ACTIONS, SOURCE_TYPES
from tessera.protocol import scopes
from tessera.web import tenancy
from tessera.web.api.authentication import CSRF_HEADER
from tessera.web.api.openapi_operations import OPERATIONS, Operation
from tessera.web.api.openapi_schema_parts import Schema, ref
from tessera.web.api.openapi_schemas import SCHEMAS
from tessera.web.api.paging import PAGE_SIZE
from tessera.web.services import Services
from tessera.web.sessions import COOKIE

PREFIX = "/api/v2/"
SUFFIX = ".json"
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# Clients cache it like discovery: it changes only with a new release.
CACHE = {"Cache-Control": "public, max-age=60"}
Endpoint = tuple[str, str]  # (path as the route table has it, method)


def api_endpoints(routes: Iterable[BaseRoute]) -> list[Endpoint]:
    """Every (path, method) under /api/v2 in a route table; HEAD is GET's twin, and OPTIONS
    a CORS preflight (web/cors.py), not an operation."""
    found = []
    for route in routes:
        if isinstance(route, Route) and route.path.startswith(PREFIX):
            found += [
                (route.path, method) for method in sorted(route.methods or ()) if method not in ("HEAD", "OPTIONS")
            ]
    return found


def operation_key(path: str, method: str) -> tuple[str, str]:
    """The OPERATIONS key of a route: no `.json`, parameters unnamed."""
    bare = path.removesuffix(SUFFIX)
    return method, _PARAMETER.sub("{}", bare)


def _error(description: str, schema: str = "Error", **more: Any) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}, **more}


_CHALLENGE = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}}
RESPONSES: dict[str, Schema] = {
    "400": _error("invalid_request: a token outside the Authorization header, or a body or query to fix"),
    "401": _error("no credentials, or a bad, expired or revoked token (RFC 6750 section 3.1)", headers=_CHALLENGE),
    "403": _error(
        "insufficient_scope; a browser session without the X-CSRF-Token header; or a caller who may not do this"
    ),
    "404": _error("no such record in this account"),
    "422": _error("a field failed validation; `details` names every bad field", "RecordInvalid"),
}

PARAMETERS: dict[str, Schema] = {
    "page_size": {
        "name": "page[size]",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE},
    },
    "page_after": {"name": "page[after]", "in": "query", "schema": {"type": "string"}},
    "all": {"name": "all", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}},
    "client_id": {"name": "client_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    "global_client_id": {"name": "global_client_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    "user_id": {"name": "user_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    "filter_action": {"name": "filter[action]", "in": "query", "schema": {"type": "string", "enum": list(ACTIONS)}},
    "filter_actor_id": {"name": "filter[actor_id]", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    "filter_source_type": {
        "name": "filter[source_type]",
        "in": "query",
        "schema": {"type": "string", "enum": list(SOURCE_TYPES)},
    },
    "filter_created_at": {
        "name": "filter[created_at][]",
        "in": "query",
        "description": "START, then END (ISO 8601), both included",
        "schema": {
            "type": "array",
            "items": {"type": "string", "format": "date-time"},
            "minItems": 2,
            "maxItems": 2,
        },
        "style": "form",
        "explode": True,
    },
}


def _security_schemes(origin: str) -> Schema:
    return {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an OAuth access token (RFC 6750)"},
        "oauth2": {
            "type": "oauth2",
            "description": "`read` covers every RESOURCE:read scope, `write` every RESOURCE:write",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{origin}/oauth/authorizations/new",
                    "tokenUrl": f"{origin}/oauth/tokens",
                    "scopes": {scope: scopes.describe([scope])[0] for scope in scopes.KNOWN_SCOPES},
                }
            },
        },
        "session": {"type": "apiKey", "in": "cookie", "name": COOKIE, "description": "a signed-in browser"},
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": CSRF_HEADER,
            "description": "with a session, every method but GET: the authenticity_token of GET /api/v2/users/me",
        },
    }


def _security(method: str, operation: Operation) -> list[Schema]:
    if operation.public:
        return []
    broad = "read" if operation.scope.endswith(":read") else "write"
    session: Schema = {"session": []} if method == "GET" else {"session": [], "csrf": []}
    scopes = [{"oauth2": [scope]} for scope in dict.fromkeys((operation.scope, broad))]
    return [{"bearer": []}, *scopes, session]


def _answers(operation: Operation) -> dict[str, Schema]:
    status, schema = operation.answer
    success: Schema = {"description": "success"}
    if schema is not None:
        success["content"] = {"application/json": {"schema": ref(schema)}}
    elif status == 200:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    if operation.location:
        success["headers"] = {"Location": {"required": True, "schema": {"type": "string", "format": "uri"}}}
    statuses = () if operation.public else (400, 401, 403, *operation.errors)
    return {str(status): success, **{str(code): {"$ref": f"#/components/responses/{code}"} for code in statuses}}


def _path_parameters(path: str, operation: Operation) -> list[Schema]:
    names = _PARAMETER.findall(path)
    return [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in zip(names, operation.path, strict=True)
    ]


def _operation(path: str, method: str) -> Schema:
    operation = OPERATIONS[operation_key(path, method)]
    suffix = "_json" if path.endswith(SUFFIX) else ""
    described: Schema = {
        "operationId": f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path.removesuffix(SUFFIX))}{suffix}",
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": _security(method, operation),
        "responses": _answers(operation),
    }
    parameters = _path_parameters(path, operation) + [
        {"$ref": f"#/components/parameters/{name}"} for name in operation.query
    ]
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {
            "required": operation.body_required,
            "content": {"application/json": {"schema": ref(operation.body)}},
        }
    return described


@functools.lru_cache(maxsize=64)
def document(endpoints: tuple[Endpoint, ...], origin: str) -> bytes:
    """The document for an account at `origin`, serialised once per account host."""
    paths: dict[str, dict[str, Schema]] = {}
    for path, method in endpoints:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method)
    body = {
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera account API",
            "version": "2",
            "description": "The /api/v2 endpoints of one account, Zendesk-shaped. Every path also answers "
            "with the .json suffix. Listings page with page[size] (1 to 100) and page[after] (meta.after_cursor).",
        },
        "servers": [{"url": origin}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "parameters": PARAMETERS,
            "securitySchemes": _security_schemes(origin),
        },
    }
    return orjson.dumps(body)


async def openapi(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    endpoints = tuple(api_endpoints(request.app.router.routes))
    return Response(document(endpoints, host.issuer), 200, CACHE, media_type="application/json")
