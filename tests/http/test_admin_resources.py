"""The console's Resources page (INTERFACE.md section 8: registered resources "in the CLI
and console"; section 5 for its pages): list with the account's API, register with each
error beside its field, delete after a confirmation page, CSRF on every form, audited.
"""

from __future__ import annotations

import httpx
import pytest

from tessera.management import resources
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import Clock, World, forms, sign_in

pytestmark = pytest.mark.anyio

MCP = "https://mcp.example.com/mcp"


async def _as_admin(http: httpx.AsyncClient, world: World) -> None:
    signed_in = await sign_in(http, world.admin.email, return_to="/admin/resources")
    assert signed_in.status_code == 303, signed_in.text


def _csrf(html: str) -> str:
    return next(f.fields["authenticity_token"] for f in forms(html) if f.fields.get("authenticity_token"))


async def test_the_pages_send_the_section_5_headers_and_carry_csrf_tokens(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    resource = await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=MCP), clock())
    await _as_admin(http, world)
    for path in ("/admin/resources", "/admin/resources/new", f"/admin/resources/{resource.id}/delete"):
        response = await http.get(path, headers={"Origin": "https://evil.example"})
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], path
        posts = [f for f in forms(response.text) if f.method == "post"]
        assert all(f.fields.get("authenticity_token") for f in posts), path


async def test_the_list_shows_the_account_api_and_the_registered_resources(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    spec = resources.ResourceSpec(uri=MCP, name="Tools server", scopes=("tickets:read",))
    await resources.create(stores, world.account, world.origin, spec, clock())
    await _as_admin(http, world)
    page = await http.get("/admin/resources")
    assert page.status_code == 200
    assert world.origin + "/api/v2" in page.text
    assert "Tools server" in page.text and MCP in page.text and "tickets:read" in page.text
    assert 'aria-current="page"' in page.text and "/admin/resources" in page.text


async def test_a_resource_is_registered_and_audited(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await _as_admin(http, world)
    new = await http.get("/admin/resources/new")
    data = {"authenticity_token": _csrf(new.text), "uri": MCP, "name": "Tools", "scopes": "tickets:read users:read"}
    created = await http.post("/admin/resources", data=data)
    assert created.status_code == 303 and created.headers["location"] == "/admin/resources"
    listing = await http.get("/admin/resources")
    assert "Tools was registered" in listing.text
    found = await stores.resources.find(world.account.id, (MCP,))
    assert found[MCP].scopes == ("tickets:read", "users:read")
    entries = await stores.audit.newest_first(world.account.id, AuditFilter(source_type="oauth_resource"))
    assert [(e.entry.action, e.entry.actor_id) for e in entries] == [("create", world.admin.id)]


async def test_bad_fields_are_named_beside_them(http: httpx.AsyncClient, world: World) -> None:
    await _as_admin(http, world)
    new = await http.get("/admin/resources/new")
    data = {"authenticity_token": _csrf(new.text), "uri": "http://mcp.example.com/#x", "name": "", "scopes": "nope"}
    refused = await http.post("/admin/resources", data=data)
    assert refused.status_code == 422
    assert 'id="uri-error"' in refused.text and "fragment" in refused.text
    assert 'id="scopes-error"' in refused.text and "unknown scope" in refused.text
    assert 'value="http://mcp.example.com/#x"' in refused.text  # what was typed stays


async def test_a_duplicate_and_the_account_api_are_refused(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=MCP), clock())
    await _as_admin(http, world)
    token = _csrf((await http.get("/admin/resources/new")).text)
    for uri, said in ((MCP, "already a resource"), (world.origin + "/api/v2", "own API")):
        refused = await http.post("/admin/resources", data={"authenticity_token": token, "uri": uri})
        assert refused.status_code == 422 and said in refused.text, uri


async def test_delete_after_confirmation_and_never_without_csrf(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    resource = await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=MCP), clock())
    await _as_admin(http, world)
    path = f"/admin/resources/{resource.id}/delete"
    for bad in ({}, {"authenticity_token": "0" * 64}):
        assert (await http.post(path, data=bad)).status_code == 403
    assert await stores.resources.get(world.account.id, resource.id) is not None
    confirm = await http.get(path)
    assert "invalid_target" in confirm.text
    gone = await http.post(path, data={"authenticity_token": _csrf(confirm.text)})
    assert gone.status_code == 303 and gone.headers["location"] == "/admin/resources"
    assert await stores.resources.get(world.account.id, resource.id) is None
    assert (await http.get(path)).status_code == 404
    entries = await stores.audit.newest_first(world.account.id, AuditFilter(source_type="oauth_resource"))
    assert [e.entry.action for e in entries] == ["destroy", "create"]


async def test_a_post_without_csrf_registers_nothing(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await _as_admin(http, world)
    refused = await http.post("/admin/resources", data={"uri": MCP})
    assert refused.status_code == 403 and "This page has expired" in refused.text
    assert await stores.resources.find(world.account.id, (MCP,)) == {}


async def test_an_end_user_may_not_enter(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    assert (await http.get("/admin/resources")).status_code == 403
