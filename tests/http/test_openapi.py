"""INTERFACE.md section 6 "OpenAPI": GET /api/v2/openapi.json is an OpenAPI 3.1 document of
every /api/v2 endpoint, true to what they answer.

- The document is served without credentials, as JSON, with CORS like discovery, and is
  valid OpenAPI 3.1 (the specification's own meta-schema, as schemathesis carries it; every
  component schema valid JSON Schema 2020-12).
- Its paths are exactly the route table's /api/v2 paths, each with and without `.json`,
  and the twins describe the same operation.
- A schemathesis run over every operation, in process, as an admin with a `read write`
  token, finds no 5xx and no answer outside the document: status code, content type,
  headers and body schema. Examples mix data that fits the document with data that does
  not (schemathesis' negative mode): both must get a documented answer. Each example sometimes swaps the generated id for a real one of
  the test's account, so that successes are checked as well as 404s; and goes to the
  `.json` twin half of the time.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tessera.management import tokens as token_rules
from tessera.model import AccessToken
from tessera.protocol.ports import KeyRing
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tessera.web.api import openapi
from tessera.web.api.openapi_operations import OPERATIONS
from tessera.web.route_table import ADMINISTRATION, routes
from tessera.web.services import Services
from tests.support import Clock, World, add_client

pytestmark = pytest.mark.anyio

DOCUMENT = "/api/v2/openapi.json"
ENDPOINTS = tuple(openapi.api_endpoints(routes(cast(Services, None))))
SCHEMA = schemathesis.openapi.from_dict(json.loads(openapi.document(ENDPOINTS, "http://example.localhost")))
# The run covers each operation once; its `.json` twin is the same handler (see
# test_twins_describe_the_same_operation), reached by drawing `suffixed`.
OPERATIONS_RUN = [op for op in (r.ok() for r in SCHEMA.get_all_operations()) if not op.path.endswith(".json")]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RUN = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


async def test_document_is_public_json_with_cors(http: httpx.AsyncClient, world: World) -> None:
    for path in (DOCUMENT, DOCUMENT.removesuffix(".json")):
        response = await http.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        body = response.json()
        assert body["openapi"] == "3.1.0"
        assert body["servers"] == [{"url": world.origin}]


async def test_served_document_is_valid_openapi_3_1(http: httpx.AsyncClient) -> None:
    served = (await http.get(DOCUMENT)).json()
    schemathesis.openapi.from_dict(served).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in served["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name


def test_paths_are_exactly_the_route_tables() -> None:
    """Every /api/v2 route, and nothing else, each with its `.json` twin."""
    document = json.loads(openapi.document(ENDPOINTS, "http://example.localhost"))
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert documented == set(ENDPOINTS)
    bare = {(path.removesuffix(".json"), method) for path, method in ENDPOINTS}
    assert {(path + ".json", method) for path, method in bare} <= set(ENDPOINTS)
    for expected in (
        ("/api/v2/users/me", "GET"),
        ("/api/v2/oauth/tokens/{token_id}", "DELETE"),
        ("/api/v2/tickets/{ticket_id}", "PUT"),
        ("/api/v2/openapi", "GET"),
    ):
        assert expected in bare


def test_every_described_operation_is_served() -> None:
    """No description outlives its route: OPERATIONS holds only what the table serves."""
    used = {openapi.operation_key(path, method) for path, method in ENDPOINTS}
    assert set(OPERATIONS) == used


def test_documented_scopes_are_the_route_tables() -> None:
    """The scope each administration route checks is the one the document names."""
    for bare, _handler, scope, method in ADMINISTRATION:
        assert OPERATIONS[openapi.operation_key(bare, method)].scope == scope, (method, bare)


def test_twins_describe_the_same_operation() -> None:
    paths = json.loads(openapi.document(ENDPOINTS, "http://example.localhost"))["paths"]
    for path, item in paths.items():
        if path.endswith(".json"):
            continue
        twin = paths[path + ".json"]
        for method, described in item.items():
            other = dict(twin[method])
            assert other.pop("operationId") == described["operationId"] + "_json"
            assert other == {k: v for k, v in described.items() if k != "operationId"}


def test_operation_ids_are_unique() -> None:
    paths = json.loads(openapi.document(ENDPOINTS, "http://example.localhost"))["paths"]
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))


# --- the schemathesis run --------------------------------------------------------------

# Which real record of the account a path's id parameter may be swapped for.
RESOURCES = {
    "/api/v2/oauth/tokens/": "token",
    "/api/v2/tickets/": "ticket",
    "/api/v2/oauth/clients/": "client",
    "/api/v2/oauth/global_clients/": "global_client",
    "/api/v2/users/": "user",
    "/api/v2/audit_logs/": "audit_log",
}


async def _admin_token(
    stores: Stores, keys: KeyRing, world: World, now: float, scopes: str = "read write"
) -> tuple[str, AccessToken]:
    # A client of its own for each token: an example may delete any client it can name, and
    # the next example's token must not depend on one that is gone.
    holder = await add_client(stores, world.account, now, redirect_uris=("https://holder.example.com/cb",))
    created = await token_rules.create(
        stores, world.account, holder.client, world.admin, scopes, now, keys=keys, issuer=world.origin
    )
    return created.full_token, created.token


async def _real_ids(stores: Stores, keys: KeyRing, world: World, now: float) -> dict[str, int]:
    """A live record of each kind the run may address; made anew for every example, since
    an example may delete or revoke the one before."""
    _, token = await _admin_token(stores, keys, world, now, "read")
    ticket = await stores.tickets.create(world.account.id, world.user.id, "Printer", "It smokes", None, now)
    client = await add_client(stores, world.account, now, redirect_uris=("https://run.example.com/cb",))
    app = await add_client(stores, None, now, redirect_uris=("https://app.example.com/cb",))
    # A token of the user authorizes the global client in the account (INTERFACE.md section 6).
    await token_rules.create(stores, world.account, app.client, world.user, "read", now, keys=keys, issuer=world.origin)
    newest = await stores.audit.newest_first(world.account.id, AuditFilter(), limit=1)
    return {
        "token": token.id,
        "ticket": ticket.id,
        "client": client.client.id,
        "global_client": app.client.id,
        "user": world.user.id,
        "audit_log": newest[0].id,
    }


def _with_real_ids(case: schemathesis.Case, world: World, ids: dict[str, int]) -> None:
    path = case.operation.path
    resource = next((kind for prefix, kind in RESOURCES.items() if path.startswith(prefix)), None)
    if resource in ids and case.path_parameters:
        name = next(iter(case.path_parameters))
        case.path_parameters[name] = ids[cast(str, resource)]
    if isinstance(case.body, dict) and isinstance(case.body.get("token"), dict):
        case.body["token"]["client_id"] = world.web.client.id


def _request(case: schemathesis.Case, origin: str, token: str, suffixed: bool) -> dict[str, Any]:
    sent = case.as_transport_kwargs(base_url=origin, headers={"Authorization": f"Bearer {token}"})
    if suffixed:
        sent["url"] = re.sub(r"^([^?]*)", lambda m: m.group(1) + ".json", sent["url"], count=1)
    return {
        key: value for key, value in sent.items() if key in ("method", "url", "headers", "params", "json", "content")
    }


def _conformance_test(operation: schemathesis.APIOperation) -> Any:
    @RUN
    @given(
        case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)),
        real=st.booleans(),
        suffixed=st.booleans(),
    )
    async def test(
        app: Any,
        http: httpx.AsyncClient,
        stores: Stores,
        world: World,
        clock: Clock,
        case: schemathesis.Case,
        real: bool,
        suffixed: bool,
    ) -> None:
        now = clock()
        keys = app.state.services.keys
        token, _ = await _admin_token(stores, keys, world, now)
        if real:
            _with_real_ids(case, world, await _real_ids(stores, keys, world, now))
        response = await http.request(**_request(case, world.origin, token, suffixed))
        case.validate_response(response, checks=CHECKS)

    test.__doc__ = f"{operation.method.upper()} {operation.path}: nothing outside the document."
    return test


# One test per operation, each with an account of its own, so that an example that
# deletes or demotes something spoils no other operation's run.
for _operation in OPERATIONS_RUN:
    _name = re.sub(r"[^a-z0-9]+", "_", f"{_operation.method} {_operation.path}".lower()).strip("_")
    globals()[f"test_schemathesis_{_name}"] = _conformance_test(_operation)


async def test_a_body_past_the_size_limit_is_a_documented_400(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 6: "Never a 500"; a body the API will not read is invalid_request."""
    token, _ = await _admin_token(stores, app.state.services.keys, world, clock())
    big = {"ticket": {"subject": "x", "comment": {"body": "y" * 70_000}}}
    for path in ("/api/v2/tickets", "/api/v2/oauth/tokens"):
        response = await http.post(path, json=big, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert "65536 bytes" in response.json()["description"]
