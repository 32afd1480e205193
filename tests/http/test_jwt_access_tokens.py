"""JWT access tokens (issue 5 item 5): RFC 9068 sections 2.1 (header), 2.2 (claims) and 4
(validation), for clients created with access_token_format="jwt".

Issue 5: "since a resource server can verify them without asking, their default lifetime
is short (5 minutes), and introspection and Tessera's own API still honour revocation".
INTERFACE.md section 3: the JWT "is a signed JWT without prefix; its jti is stored as a
hash so that revocation still works".
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tessera.storage.schema import access_tokens
from tessera.storage.stores import Stores
from tests.http.test_signing_keys import b64url_decode, code_flow_tokens, get_jwks, verify_jws
from tests.support import Clock, RegisteredClient, World, add_client, make_world

pytestmark = pytest.mark.anyio

JWT_DEFAULT_LIFETIME = 300  # issue 5: "their default lifetime is short (5 minutes)"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


async def _jwt_client(stores: Stores, world: World, clock: Clock, **spec: Any) -> RegisteredClient:
    return await add_client(
        stores,
        world.account,
        clock(),
        redirect_uris=("https://jwt.example.com/cb",),
        access_token_format="jwt",
        **spec,
    )


@pytest.fixture
async def jwt_client(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    return await _jwt_client(stores, world, clock)


async def _me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.get("/api/v2/users/me", headers=_bearer(token))


def _refused(response: httpx.Response) -> None:
    """RFC 6750 section 3.1 invalid_token at the API (INTERFACE.md "Calling the API")."""
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_is_an_at_jwt_with_the_rfc9068_claims(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient, clock: Clock
) -> None:
    tokens = await code_flow_tokens(http, jwt_client, world.user.email, scope="read")
    token = tokens["access_token"]
    assert not token.startswith("tsa_")
    header, claims = verify_jws(token, await get_jwks(http))
    # Section 2.1: "Resource servers MUST ... the typ header parameter with value at+jwt".
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    # Section 2.2: iss, exp, aud, sub, client_id, iat, jti are REQUIRED; scope (2.2.3).
    assert claims["iss"] == world.origin
    assert claims["sub"] == str(world.user.id)
    # RFC 9068 section 3: with no resource requested, the default resource, the account's API.
    assert claims["aud"] == world.origin + "/api/v2"
    assert claims["client_id"] == jwt_client.client_id
    assert claims["scope"] == "read"
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 22  # at least 128 bits of randomness, base64url
    assert abs(claims["iat"] - clock()) <= 2
    assert claims["exp"] - claims["iat"] == JWT_DEFAULT_LIFETIME
    assert tokens["expires_in"] == JWT_DEFAULT_LIFETIME


async def test_each_token_has_its_own_jti(http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient) -> None:
    first = await code_flow_tokens(http, jwt_client, world.user.email, scope="read")
    second = await code_flow_tokens(http, jwt_client, world.user.email, scope="read")
    jwks = await get_jwks(http)
    assert verify_jws(first["access_token"], jwks)[1]["jti"] != verify_jws(second["access_token"], jwks)[1]["jti"]


async def test_rs256_client_gets_rs256_jwts(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    client = await _jwt_client(stores, world, clock, signing_alg="RS256")
    token = (await code_flow_tokens(http, client, world.user.email, scope="read"))["access_token"]
    header, _ = verify_jws(token, await get_jwks(http))
    assert header["alg"] == "RS256"
    assert (await _me(http, token)).status_code == 200


async def test_jwt_works_at_the_api(http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient) -> None:
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    response = await _me(http, token)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == world.user.email


async def test_scope_is_enforced_for_jwts(http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient) -> None:
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="tickets:read"))["access_token"]
    response = await _me(http, token)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_revoked_jwt_is_refused_although_its_signature_is_valid(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient
) -> None:
    """RFC 7009 section 2 with issue 5: "Tessera's own API still honour[s] revocation"."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    assert (await _me(http, token)).status_code == 200
    revoked = await http.post("/oauth/revoke", auth=jwt_client.basic(), data={"token": token})
    assert revoked.status_code == 200
    verify_jws(token, await get_jwks(http))  # a resource server that only checks the signature would accept it
    _refused(await _me(http, token))


async def test_introspection_shows_active_then_inactive(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient
) -> None:
    """RFC 7662 section 2.2; issue 5: introspection honours revocation of JWTs."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    _, claims = verify_jws(token, await get_jwks(http))
    active = (await http.post("/oauth/introspect", auth=jwt_client.basic(), data={"token": token})).json()
    assert active["active"] is True
    assert active["client_id"] == jwt_client.client_id
    assert active["sub"] == str(world.user.id)
    assert active["scope"] == "read"
    assert active["exp"] == claims["exp"]
    assert active["iat"] == claims["iat"]
    await http.post("/oauth/revoke", auth=jwt_client.basic(), data={"token": token})
    inactive = await http.post("/oauth/introspect", auth=jwt_client.basic(), data={"token": token})
    assert inactive.json() == {"active": False}


async def test_expired_jwt_is_refused(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient, clock: Clock
) -> None:
    """RFC 9068 section 4: the resource server "MUST" reject a token past exp."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    clock.advance(JWT_DEFAULT_LIFETIME + 1)
    response = await _me(http, token)
    _refused(response)
    assert "expired" in response.json()["description"]
    inactive = await http.post("/oauth/introspect", auth=jwt_client.basic(), data={"token": token})
    assert inactive.json() == {"active": False}


async def test_tampered_payload_is_refused(http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient) -> None:
    """RFC 9068 section 4: the signature "MUST" be validated; a changed claim breaks it."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sub"] = str(world.admin.id)
    claims["scope"] = "read write"
    _refused(await _me(http, f"{header}.{_b64(claims)}.{signature}"))


async def test_unsigned_jwt_is_refused(http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient) -> None:
    """RFC 8725 section 3.1: alg "none" is never accepted."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    _, payload, _ = token.split(".")
    header = _b64({"alg": "none", "typ": "at+jwt"})
    _refused(await _me(http, f"{header}.{payload}."))
    _refused(await _me(http, f"{header}.{payload}.c2lnbmF0dXJl"))


@pytest.fixture
async def elsewhere(stores: Stores, clock: Clock) -> World:
    return await make_world(stores, clock)


@pytest.fixture
async def http_elsewhere(app: Any, elsewhere: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=elsewhere.origin) as client:
        yield client


async def test_jwt_signed_by_another_accounts_key_is_refused(
    http: httpx.AsyncClient,
    http_elsewhere: httpx.AsyncClient,
    elsewhere: World,
    stores: Stores,
    clock: Clock,
) -> None:
    """Each account is its own issuer with its own keys (INTERFACE.md section 2)."""
    client = await _jwt_client(stores, elsewhere, clock)
    theirs = (await code_flow_tokens(http_elsewhere, client, elsewhere.user.email, scope="read"))["access_token"]
    assert (await _me(http_elsewhere, theirs)).status_code == 200
    _refused(await _me(http, theirs))


async def test_client_credentials_jwt_acts_as_the_owner(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """INTERFACE.md section 4: a client_credentials token acts as the client's owner (by
    default the account's earliest admin); RFC 9068 section 2.2: sub is then that user."""
    machine = await add_client(
        stores, world.account, clock(), grant_types=("client_credentials",), access_token_format="jwt"
    )
    response = await http.post(
        "/oauth/tokens", auth=machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "refresh_token" not in body
    assert body["expires_in"] == JWT_DEFAULT_LIFETIME
    header, claims = verify_jws(body["access_token"], await get_jwks(http))
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == str(world.admin.id)
    assert claims["client_id"] == machine.client_id
    me = await _me(http, body["access_token"])
    assert me.json()["user"]["id"] == world.admin.id


async def test_refresh_gives_a_new_jwt_and_revokes_the_previous(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient
) -> None:
    """INTERFACE.md "Single use and rotation": each refresh "revokes the previous access token"."""
    tokens = await code_flow_tokens(http, jwt_client, world.user.email, scope="read")
    refreshed = await http.post(
        "/oauth/tokens",
        auth=jwt_client.basic(),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()["access_token"]
    header, _ = verify_jws(new, await get_jwks(http))
    assert header["typ"] == "at+jwt"
    assert refreshed.json()["expires_in"] == JWT_DEFAULT_LIFETIME
    assert (await _me(http, new)).status_code == 200
    _refused(await _me(http, tokens["access_token"]))


async def test_a_longer_lifetime_may_be_asked_for(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient
) -> None:
    """INTERFACE.md token endpoint: "A request's expires_in inside the bounds overrides the
    client's default lifetime"; the JWT's exp says the same as expires_in."""
    tokens = await code_flow_tokens(http, jwt_client, world.user.email, scope="read")
    refreshed = await http.post(
        "/oauth/tokens",
        auth=jwt_client.basic(),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "expires_in": "3600"},
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["expires_in"] == 3600
    _, claims = verify_jws(refreshed.json()["access_token"], await get_jwks(http))
    assert claims["exp"] - claims["iat"] == 3600


async def test_neither_the_jwt_nor_its_jti_is_stored_in_the_clear(
    http: httpx.AsyncClient, world: World, jwt_client: RegisteredClient, stores: Stores
) -> None:
    """INTERFACE.md sections 3 and 5: the jti is stored as a hash; nothing issued is
    stored in plaintext."""
    token = (await code_flow_tokens(http, jwt_client, world.user.email, scope="read"))["access_token"]
    _, claims = verify_jws(token, await get_jwks(http))

    def rows(conn: sa.Connection) -> list[dict[str, Any]]:
        selected = conn.execute(sa.select(access_tokens).where(access_tokens.c.account_id == world.account.id))
        return [dict(row._mapping) for row in selected]

    stored = await stores.db.read(rows)
    assert stored
    for row in stored:
        for column, value in row.items():
            text = value.hex() if isinstance(value, bytes) else str(value)
            assert claims["jti"] not in text, column
            assert token not in text, column
            assert token.split(".")[2] not in text, column
