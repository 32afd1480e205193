"""The client credentials grant: RFC 6749 sections 4.4.2 and 4.4.3; INTERFACE.md "Token
endpoint" (the token acts as the client's owner), "Scopes", and section 5 (never a
refresh token).
"""

from __future__ import annotations

import re

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client

pytestmark = pytest.mark.anyio

TOKEN = "/oauth/tokens"
ME = "/api/v2/users/me"
DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")


def oauth_error(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert DESCRIPTION.match(body["error_description"]), body["error_description"]
    return str(body["error_description"])


async def client_credentials(http: httpx.AsyncClient, client: RegisteredClient, **params: str) -> httpx.Response:
    return await http.post(TOKEN, auth=client.basic(), data={"grant_type": "client_credentials", **params})


async def test_the_token_acts_as_the_clients_owner(http: httpx.AsyncClient, world: World) -> None:
    response = await client_credentials(http, world.machine, scope="read")
    assert response.status_code == 200, response.text
    me = await http.get(ME, headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.status_code == 200, me.text
    user = me.json()["user"]
    # The machine client was registered without --owner: the account's earliest admin owns it.
    assert user["id"] == world.admin.id
    assert user["email"] == "admin@example.com"
    assert user["role"] == "admin"


async def test_the_token_acts_as_a_named_owner(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    owned = await add_client(
        stores, world.account, clock(), grant_types=("client_credentials",), owner_email=world.user.email
    )
    response = await client_credentials(http, owned, scope="read")
    assert response.status_code == 200, response.text
    me = await http.get(ME, headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.json()["user"]["email"] == "user@example.com"


async def test_never_a_refresh_token_even_with_the_refresh_grant(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    # RFC 6749 section 4.4.3: "A refresh token SHOULD NOT be included"; INTERFACE.md section 5: never.
    both = await add_client(stores, world.account, clock(), grant_types=("client_credentials", "refresh_token"))
    response = await client_credentials(http, both, scope="read write")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert body["scope"] == "read write"


async def test_requested_expires_in_applies(http: httpx.AsyncClient, world: World) -> None:
    response = await client_credentials(http, world.machine, scope="read", expires_in="600")
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 600


@pytest.mark.parametrize("scope", ["tickets:delete", "admin", "read nonsense", "users:read users:erase"])
async def test_unknown_scope_is_invalid_scope(http: httpx.AsyncClient, world: World, scope: str) -> None:
    response = await client_credentials(http, world.machine, scope=scope)
    description = oauth_error(response, 400, "invalid_scope")
    assert "unknown scope" in description


@pytest.mark.parametrize("scope", ["openid", "read openid", "profile", "email", "offline_access"])
async def test_user_only_scopes_are_invalid_scope(http: httpx.AsyncClient, world: World, scope: str) -> None:
    # openid and its companions describe a signed-in user; client_credentials has none.
    response = await client_credentials(http, world.machine, scope=scope)
    description = oauth_error(response, 400, "invalid_scope")
    assert scope.split()[-1] in description


async def test_scope_outside_the_clients_allow_list_is_invalid_scope(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    limited = await add_client(
        stores, world.account, clock(), grant_types=("client_credentials",), allowed_scopes=("tickets:read",)
    )
    response = await client_credentials(http, limited, scope="users:read")
    description = oauth_error(response, 400, "invalid_scope")
    assert "users:read" in description
    assert "tickets:read" in description
    # A scope inside the allow-list is fine.
    allowed = await client_credentials(http, limited, scope="tickets:read")
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["scope"] == "tickets:read"


async def test_a_public_client_cannot_use_it(http: httpx.AsyncClient, world: World) -> None:
    # Section 4.4: "The client credentials grant type MUST only be used by confidential clients."
    response = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": world.spa.client_id, "scope": "read"}
    )
    oauth_error(response, 400, "unauthorized_client")


async def test_a_client_without_the_grant_cannot_use_it(http: httpx.AsyncClient, world: World) -> None:
    response = await client_credentials(http, world.web, scope="read")
    description = oauth_error(response, 400, "unauthorized_client")
    assert "client_credentials" in description
