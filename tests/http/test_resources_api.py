"""The Resources API (INTERFACE.md sections 6 and 8; RFC 8707): /api/v2/oauth/resources(.json)
and /{id}(.json): list, register (201, Location), show, delete (204). Admins only, with
clients:read / clients:write (or read / write); the documented refusals of section 6.
"""

from __future__ import annotations

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.admin_support import agent, assert_forbidden, assert_not_found, bearer
from tests.support import Clock, World, make_world

pytestmark = pytest.mark.anyio

RESOURCES = "/api/v2/oauth/resources"
MCP = "https://mcp.example.com/mcp"


async def test_register_show_list_and_delete(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    admin = await bearer(stores, world, world.admin, "clients:read clients:write", clock)
    body = {"resource": {"uri": MCP, "name": "Tools", "scopes": ["tickets:read"]}}
    created = await http.post(RESOURCES + ".json", json=body, headers=admin)
    assert created.status_code == 201, created.text
    resource = created.json()["resource"]
    assert resource["uri"] == MCP and resource["name"] == "Tools" and resource["scopes"] == ["tickets:read"]
    assert created.headers["location"] == resource["url"] == f"{world.origin}{RESOURCES}/{resource['id']}.json"
    shown = await http.get(f"{RESOURCES}/{resource['id']}", headers=admin)
    assert shown.json() == {"resource": resource}
    listed = await http.get(RESOURCES, headers=admin)
    assert [r["uri"] for r in listed.json()["resources"]] == [MCP]
    assert listed.json()["meta"]["has_more"] is False
    gone = await http.delete(f"{RESOURCES}/{resource['id']}.json", headers=admin)
    assert gone.status_code == 204
    assert_not_found(await http.get(f"{RESOURCES}/{resource['id']}", headers=admin))
    # A token may no longer be for it (RFC 8707 section 2: invalid_target).
    refused = await http.post(
        "/oauth/tokens",
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read", "resource": MCP},
    )
    assert refused.json()["error"] == "invalid_target"


async def test_every_bad_field_is_named(http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock) -> None:
    admin = await bearer(stores, world, world.admin, "write", clock)
    body = {"resource": {"uri": "https://x.example.com/#f", "scopes": "tickets:read nope"}}
    refused = await http.post(RESOURCES, json=body, headers=admin)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "RecordInvalid"
    assert set(refused.json()["details"]) == {"uri", "scopes"}


@pytest.mark.parametrize(
    "body",
    [{"uri": MCP}, {"resource": {"uri": MCP, "audience": "x"}}, {"resource": {"uri": 5}}, {"resource": []}],
)
async def test_a_body_of_another_shape_is_400(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock, body: object
) -> None:
    admin = await bearer(stores, world, world.admin, "write", clock)
    refused = await http.post(RESOURCES, json=body, headers=admin)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request", refused.text


async def test_only_admins_with_the_scope(http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock) -> None:
    not_admin = await bearer(stores, world, await agent(stores, world, clock), "read write", clock)
    assert_forbidden(await http.get(RESOURCES, headers=not_admin))
    reader = await bearer(stores, world, world.admin, "clients:read", clock)
    refused = await http.post(RESOURCES, json={"resource": {"uri": MCP}}, headers=reader)
    assert refused.status_code == 403 and 'scope="clients:write"' in refused.headers["www-authenticate"]


async def test_another_accounts_resource_is_not_found(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    theirs = await bearer(stores, other, other.admin, "write", clock)
    made = await http.post(
        RESOURCES, json={"resource": {"uri": MCP}}, headers={**theirs, "Host": f"{other.subdomain}.localhost"}
    )
    assert made.status_code == 201, made.text
    mine = await bearer(stores, world, world.admin, "read write", clock)
    assert_not_found(await http.get(f"{RESOURCES}/{made.json()['resource']['id']}", headers=mine))
    assert_not_found(await http.delete(f"{RESOURCES}/{made.json()['resource']['id']}", headers=mine))
