"""Calling the API with bearer tokens: RFC 6750 sections 2.1 and 3.1; INTERFACE.md
"Calling the API" and "Scopes".
"""

from __future__ import annotations

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, World, make_world

pytestmark = pytest.mark.anyio

ME = "/api/v2/users/me"
TOKEN = "/oauth/tokens"
YEAR = 365 * 24 * 3600


async def machine_token(http: httpx.AsyncClient, world: World, scope: str = "read") -> str:
    """A client_credentials token; it acts as world.admin, the machine client's owner."""
    response = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": scope}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response: httpx.Response) -> str:
    """RFC 6750 section 3.1 invalid_token, in the header and in the body; returns the description."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="invalid_token"' in challenge
    assert 'error_description="' in challenge
    body = response.json()
    assert set(body) == {"error", "description"}
    assert body["error"] == "invalid_token"
    assert body["description"]
    return str(body["description"])


@pytest.mark.parametrize("path", [ME, ME + ".json"])
async def test_users_me_answers_the_caller(http: httpx.AsyncClient, world: World, path: str) -> None:
    response = await http.get(path, headers=bearer(await machine_token(http, world)))
    assert response.status_code == 200, response.text
    user = response.json()["user"]
    assert user["id"] == world.admin.id
    assert user["email"] == "admin@example.com"
    assert user["name"] == "Ada Admin"
    assert user["role"] == "admin"
    # The session-only field is absent for a bearer caller.
    assert "authenticity_token" not in user


@pytest.mark.parametrize("path", [ME, ME + ".json"])
async def test_no_credentials_is_401_with_a_challenge_without_error(
    http: httpx.AsyncClient, world: World, path: str
) -> None:
    response = await http.get(path)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    # RFC 6750 section 3.1: "If the request lacks any authentication information ... the
    # resource server SHOULD NOT include an error code or other error information."
    assert challenge.startswith('Bearer realm="')
    assert "error" not in challenge
    # RFC 6750 section 3 allows scope in any challenge; the MCP authorization specification
    # asks for it in the 401, so that a client asks for the scope the resource needs.
    assert 'scope="users:read"' in challenge
    body = response.json()
    assert set(body) == {"error", "description"}
    assert body["error"] == "Couldn't authenticate you"
    assert "Authorization: Bearer" in body["description"]


@pytest.mark.parametrize("header", ["Bearer @@@", "Bearer a b c", "Bearer tok\u00e9n", "Bearer"])
async def test_malformed_credentials_are_invalid_token(http: httpx.AsyncClient, world: World, header: str) -> None:
    response = await http.get(ME, headers={"Authorization": header.encode("utf-8")})
    assert_invalid_token(response)


@pytest.mark.parametrize("header", ["Token abc", "Basic YWRtaW46c2VjcmV0"])
async def test_another_scheme_is_401_saying_to_send_a_bearer_token(
    http: httpx.AsyncClient, world: World, header: str
) -> None:
    response = await http.get(ME, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert "Authorization: Bearer TOKEN" in response.json()["description"]


async def test_unknown_token_is_invalid_token(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(ME, headers=bearer("tsa_" + "A" * 43))
    description = assert_invalid_token(response)
    assert "not valid" in description


async def test_a_token_cut_short_is_invalid_token(http: httpx.AsyncClient, world: World) -> None:
    token = await machine_token(http, world)
    assert_invalid_token(await http.get(ME, headers=bearer(token[:-1])))


async def test_expired_token_is_invalid_token_saying_so(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    token = await machine_token(http, world)  # 1800 seconds, the machine client's default
    clock.advance(1790)
    assert (await http.get(ME, headers=bearer(token))).status_code == 200
    clock.advance(20)
    description = assert_invalid_token(await http.get(ME, headers=bearer(token)))
    assert "expired" in description


async def test_revoked_token_is_invalid_token_saying_so(http: httpx.AsyncClient, world: World) -> None:
    token = await machine_token(http, world)
    assert (await http.get(ME, headers=bearer(token))).status_code == 200
    revoked = await http.post("/oauth/revoke", auth=world.machine.basic(), data={"token": token})
    assert revoked.status_code == 200
    description = assert_invalid_token(await http.get(ME, headers=bearer(token)))
    assert "revoked" in description


async def test_a_token_of_another_account_is_invalid_token_here(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    response = await http.post(
        f"{other.origin}{TOKEN}", auth=other.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text
    foreign = response.json()["access_token"]
    assert (await http.get(f"{other.origin}{ME}", headers=bearer(foreign))).status_code == 200
    assert_invalid_token(await http.get(ME, headers=bearer(foreign)))


async def test_token_lacking_users_read_is_403_insufficient_scope(http: httpx.AsyncClient, world: World) -> None:
    token = await machine_token(http, world, scope="tickets:read")
    response = await http.get(ME, headers=bearer(token))
    assert response.status_code == 403, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="users:read"' in challenge
    body = response.json()
    assert body["error"] == "insufficient_scope"
    assert "users:read" in body["description"]


@pytest.mark.parametrize("scope", ["write", "users:write", "impersonate"])
async def test_scopes_that_do_not_cover_users_read_are_refused(
    http: httpx.AsyncClient, world: World, scope: str
) -> None:
    response = await http.get(ME, headers=bearer(await machine_token(http, world, scope=scope)))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize("scope", ["read", "users:read", "users", "tickets:read users:read"])
async def test_scopes_covering_users_read_reach_users_me(http: httpx.AsyncClient, world: World, scope: str) -> None:
    response = await http.get(ME, headers=bearer(await machine_token(http, world, scope=scope)))
    assert response.status_code == 200, response.text
    assert response.json()["user"]["id"] == world.admin.id


async def test_a_legacy_never_expiring_token_works_a_year_later(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    response = await http.post(
        TOKEN,
        auth=world.legacy.basic(),
        data={"grant_type": "password", "username": world.user.email, "password": PASSWORD, "scope": "read"},
    )
    assert response.status_code == 200, response.text
    assert "expires_in" not in response.json()
    clock.advance(YEAR)
    me = await http.get(ME, headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == "user@example.com"


async def test_token_in_the_query_string_is_400_telling_to_use_the_header(
    http: httpx.AsyncClient, world: World
) -> None:
    token = await machine_token(http, world)
    response = await http.get(ME, params={"access_token": token})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "query string" in body["description"]
    assert "Authorization header" in body["description"]


async def test_token_in_the_query_string_is_refused_even_beside_a_valid_header(
    http: httpx.AsyncClient, world: World
) -> None:
    token = await machine_token(http, world)
    response = await http.get(ME, params={"access_token": token}, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


async def test_two_authorization_headers_are_400_not_the_first_one_winning(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6750 section 3.1: a request that "uses more than one method" is invalid_request;
    two Authorization headers (a DPoP and a Bearer, or two Bearers) used the first."""
    token = await machine_token(http, world)
    for second in (f"Bearer {token}", "Bearer wrong"):
        sent = [("Authorization", f"Bearer {token}"), ("Authorization", second)]
        response = await http.get(ME, headers=sent)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert "send one Authorization header" in response.json()["description"]
    assert (await http.get(ME, headers=bearer(token))).status_code == 200


async def test_token_in_a_form_body_is_400_telling_to_use_the_header(http: httpx.AsyncClient, world: World) -> None:
    # users/me is GET only; POST /api/v2/oauth/tokens is the API's form-accepting POST.
    token = await machine_token(http, world, scope="read write")
    response = await http.post("/api/v2/oauth/tokens", data={"access_token": token})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "form body" in body["description"]
    assert "Authorization header" in body["description"]
