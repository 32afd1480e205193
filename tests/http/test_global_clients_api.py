"""Third-party apps (INTERFACE.md section 6): GET /api/v2/oauth/global_clients(.json) lists
the global clients users of the account authorized (a live consent or token); GET /{id};
DELETE /{id} answers 204 and revokes every token and consent of that app in this account
only. Admins only, clients:read / clients:write (or read / write).
"""

from __future__ import annotations

import httpx
import pytest

from tessera.management import tokens
from tessera.storage.stores import Stores
from tests.http.admin_support import agent, assert_forbidden, assert_not_found, audit_text, bearer
from tests.support import Clock, RegisteredClient, World, add_client, make_world

pytestmark = pytest.mark.anyio

GLOBAL = "/api/v2/oauth/global_clients"


@pytest.fixture
async def app_(stores: Stores, clock: Clock) -> RegisteredClient:
    return await add_client(
        stores, None, clock(), name="Global App", company="Platform Co", redirect_uris=("https://g.example.com/cb",)
    )


async def _authorize(stores: Stores, world: World, app_: RegisteredClient, clock: Clock) -> dict[str, str]:
    made = await tokens.create(
        stores,
        world.account,
        app_.client,
        world.user,
        "read",
        clock(),
        keys=None,
        issuer=world.origin,  # type: ignore[arg-type]
    )
    return {"Authorization": f"Bearer {made.full_token}"}


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_listed_once_authorized_and_shown(
    http: httpx.AsyncClient, stores: Stores, world: World, app_: RegisteredClient, clock: Clock, suffix: str
) -> None:
    admin = await bearer(stores, world, world.admin, "read", clock)
    assert (await http.get(GLOBAL + suffix, headers=admin)).json()["global_clients"] == []
    assert_not_found(await http.get(f"{GLOBAL}/{app_.client.id}{suffix}", headers=admin))
    await _authorize(stores, world, app_, clock)
    listed = (await http.get(GLOBAL + suffix, headers=admin)).json()["global_clients"]
    assert listed == [
        {
            "id": app_.client.id,
            "url": f"{world.origin}{GLOBAL}/{app_.client.id}.json",
            "identifier": app_.client_id,
            "name": "Global App",
            "company": "Platform Co",
            "description": "",
            "logo_url": None,
        }
    ]
    shown = await http.get(f"{GLOBAL}/{app_.client.id}{suffix}", headers=admin)
    assert shown.json() == {"global_client": listed[0]}
    assert_not_found(await http.get(f"{GLOBAL}/{world.web.client.id}", headers=admin))  # not a global client


async def test_revoke_ends_the_apps_tokens_in_this_account_only(
    http: httpx.AsyncClient, stores: Stores, world: World, app_: RegisteredClient, clock: Clock
) -> None:
    admin = await bearer(stores, world, world.admin, "clients:read clients:write users:read", clock)
    here = await _authorize(stores, world, app_, clock)
    other = await make_world(stores, clock)
    there = await _authorize(stores, other, app_, clock)
    response = await http.delete(f"{GLOBAL}/{app_.client.id}.json", headers=admin)
    assert response.status_code == 204, response.text
    assert (await http.get("/api/v2/users/me", headers=here)).status_code == 401
    other_host = {**there, "Host": f"{other.subdomain}.localhost"}
    assert (await http.get("/api/v2/users/me", headers=other_host)).status_code == 200
    assert (await http.get(GLOBAL, headers=admin)).json()["global_clients"] == []
    assert_not_found(await http.delete(f"{GLOBAL}/{app_.client.id}", headers=admin))
    assert "revoked the app for the account" in await audit_text(stores, world)


async def test_only_admins_with_the_right_scope(
    http: httpx.AsyncClient, stores: Stores, world: World, app_: RegisteredClient, clock: Clock
) -> None:
    await _authorize(stores, world, app_, clock)
    for user in (world.user, await agent(stores, world, clock)):
        headers = await bearer(stores, world, user, "read write", clock)
        assert_forbidden(await http.get(GLOBAL, headers=headers))
        assert_forbidden(await http.delete(f"{GLOBAL}/{app_.client.id}", headers=headers))
    reader = await bearer(stores, world, world.admin, "clients:read", clock)
    refused = await http.delete(f"{GLOBAL}/{app_.client.id}", headers=reader)
    assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
