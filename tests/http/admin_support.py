"""Helpers for the administration API tests (INTERFACE.md section 6): bearer tokens minted
straight through the management layer (as `tessera tokens create` does), for any user and
scope, and the shapes of the documented refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tessera.management import tokens, users
from tessera.model import User
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import Clock, World


async def bearer(stores: Stores, world: World, user: User, scope: str, clock: Clock) -> dict[str, str]:
    """Authorization header for a token of `user` (the world's web client, any scope)."""
    created = await tokens.create(
        stores,
        world.account,
        world.web.client,
        user,
        scope,
        clock(),
        keys=None,
        issuer=world.origin,  # type: ignore[arg-type]
    )
    return {"Authorization": f"Bearer {created.full_token}"}


async def agent(stores: Stores, world: World, clock: Clock) -> User:
    return await users.create(stores, world.account, "agent@example.com", None, "agent", "Alan Agent", clock())


async def assert_never_a_server_error(
    http: httpx.AsyncClient, method: str, path: str, document: Any, headers: dict[str, str]
) -> None:
    """Any JSON document as the body gets a documented answer, a JSON object, never a 500."""
    response = await http.request(method, path, content=json.dumps(document).encode(), headers=headers)
    assert response.status_code in (200, 201, 400, 404, 422), response.text
    assert isinstance(response.json(), dict)


def assert_forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "Forbidden" and "admin" in body["description"]


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "RecordNotFound"


def assert_bad_request(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def assert_invalid(response: httpx.Response, *fields: str) -> dict[str, list[dict[str, str]]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["error"], body["description"]) == ("RecordInvalid", "Record validation errors")
    assert set(body["details"]) == set(fields), body["details"]
    details: dict[str, list[dict[str, str]]] = body["details"]
    return details


async def audit_text(stores: Stores, world: World) -> str:
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(), limit=1000)
    return "\n".join(repr(log.entry) for log in logs)
