"""GET|POST /oauth/userinfo: OpenID Connect Core 1.0 section 5.3, with the errors of
RFC 6750 section 3 (section 5.3.3) and the claims of sections 5.1 and 5.4.

Section 5.3.1: "The Client sends the UserInfo Request using either HTTP GET or HTTP POST.
The Access Token obtained from an OpenID Connect Authentication Request MUST be sent as a
Bearer Token, per Section 2 of OAuth 2.0 Bearer Token Usage [RFC6750]." Tessera takes the
header and the form body (RFC 6750 sections 2.1 and 2.2), never the query string
(INTERFACE.md section 4).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.test_signing_keys import code_flow_tokens, get_jwks, verify_jws
from tests.support import Clock, World, add_client, make_world

pytestmark = pytest.mark.anyio

WEB_ACCESS_LIFETIME = 1800  # INTERFACE.md section 3: default access token lifetime


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _openid_token(http: httpx.AsyncClient, world: World, scope: str = "openid") -> dict[str, Any]:
    return await code_flow_tokens(http, world.web, world.user.email, scope=scope)


def _challenge(response: httpx.Response) -> str:
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    return challenge


async def test_get_with_the_authorization_header(http: httpx.AsyncClient, world: World) -> None:
    tokens = await _openid_token(http, world)
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")  # section 5.3.2
    assert response.json() == {"sub": str(world.user.id)}


async def test_post_with_the_authorization_header(http: httpx.AsyncClient, world: World) -> None:
    tokens = await _openid_token(http, world)
    response = await http.post("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == str(world.user.id)


async def test_post_with_the_token_in_the_form_body(http: httpx.AsyncClient, world: World) -> None:
    """Section 5.3.1 allows RFC 6750 section 2.2, the form-encoded body parameter."""
    tokens = await _openid_token(http, world)
    response = await http.post("/oauth/userinfo", data={"access_token": tokens["access_token"]})
    assert response.status_code == 200, response.text
    assert response.json()["sub"] == str(world.user.id)


async def test_token_in_the_query_string_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md section 4: a token in the query string is invalid_request (it leaks
    into logs); only the header and the form body are accepted."""
    tokens = await _openid_token(http, world)
    response = await http.get("/oauth/userinfo", params={"access_token": tokens["access_token"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "Authorization" in response.json()["error_description"]


async def test_token_in_the_header_and_the_body_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    """RFC 6750 section 3.1: a request that "uses more than one method for including an
    access token" is invalid_request, even when both carry the same token."""
    tokens = await _openid_token(http, world)
    response = await http.post(
        "/oauth/userinfo", headers=_bearer(tokens["access_token"]), data={"access_token": tokens["access_token"]}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "one way" in response.json()["error_description"]


async def test_access_token_twice_in_the_body_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    """RFC 6749 section 3.2 / INTERFACE.md section 4: a parameter may be sent once; the
    first value must not silently win."""
    tokens = await _openid_token(http, world)
    response = await http.post(
        "/oauth/userinfo",
        content=f"access_token={tokens['access_token']}&access_token=other".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "once" in response.json()["error_description"]


async def test_a_non_utf8_escape_says_what_is_wrong(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/oauth/userinfo", content=b"access_token=%ff", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400, response.text
    description = response.json()["error_description"]
    assert "not valid UTF-8" in description and "codec" not in description


async def test_sub_matches_the_id_token(http: httpx.AsyncClient, world: World) -> None:
    """Section 5.3.2: "The sub Claim in the UserInfo Response MUST be verified to exactly
    match the sub Claim in the ID Token"."""
    tokens = await _openid_token(http, world)
    _, claims = verify_jws(tokens["id_token"], await get_jwks(http))
    info = (await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))).json()
    assert info["sub"] == claims["sub"]


async def test_claims_with_profile_and_email(http: httpx.AsyncClient, world: World) -> None:
    """Sections 5.1 and 5.4."""
    tokens = await _openid_token(http, world, scope="openid profile email")
    info = (await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))).json()
    assert info["sub"] == str(world.user.id)
    assert info["name"] == "Eve User"
    assert info["preferred_username"] == "user@example.com"
    assert isinstance(info["updated_at"], int)
    assert info["email"] == "user@example.com"
    assert info["email_verified"] is False
    assert set(info) == {"sub", "name", "preferred_username", "updated_at", "email", "email_verified"}


async def test_openid_address_phone_is_authorized_and_releases_no_claims(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 5.4 and INTERFACE.md "Scopes": address and phone are accepted at the
    authorization endpoint and granted; they release the claims a user has, and Tessera
    keeps no address or phone, so UserInfo answers sub alone (section 5.3.2: claims
    without a value "SHOULD be omitted")."""
    tokens = await _openid_token(http, world, scope="openid address phone")
    assert tokens["scope"] == "openid address phone"
    info = (await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))).json()
    assert info == {"sub": str(world.user.id)}


async def test_claims_with_email_only(http: httpx.AsyncClient, world: World) -> None:
    tokens = await _openid_token(http, world, scope="openid email")
    info = (await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))).json()
    assert info == {"sub": str(world.user.id), "email": "user@example.com", "email_verified": False}


async def test_claims_of_the_user_the_token_acts_for(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.web, world.admin.email, scope="openid email")
    info = (await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))).json()
    assert info["sub"] == str(world.admin.id)
    assert info["email"] == "admin@example.com"


async def test_token_without_openid_is_insufficient_scope(http: httpx.AsyncClient, world: World) -> None:
    """RFC 6750 section 3.1 insufficient_scope: 403, naming the scope needed."""
    tokens = await _openid_token(http, world, scope="read")
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    challenge = _challenge(response)
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="openid"' in challenge


async def test_no_token_is_401_with_a_bare_bearer_challenge(http: httpx.AsyncClient) -> None:
    """RFC 6750 section 3.1: "If the request lacks any authentication information ... the
    resource server SHOULD NOT include an error code"."""
    for response in (await http.get("/oauth/userinfo"), await http.post("/oauth/userinfo")):
        assert response.status_code == 401
        challenge = _challenge(response)
        assert "realm=" in challenge
        assert "error=" not in challenge


async def test_unknown_token_is_invalid_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/oauth/userinfo", headers=_bearer("tsa_" + "x" * 43))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in _challenge(response)


async def test_expired_token_is_invalid_token(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    tokens = await _openid_token(http, world)
    assert tokens["expires_in"] == WEB_ACCESS_LIFETIME
    clock.advance(WEB_ACCESS_LIFETIME + 1)
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "expired" in response.json()["error_description"]
    assert 'error="invalid_token"' in _challenge(response)


async def test_revoked_token_is_invalid_token(http: httpx.AsyncClient, world: World) -> None:
    """RFC 7009 section 2: after revocation the token is refused everywhere."""
    tokens = await _openid_token(http, world)
    revoked = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": tokens["access_token"]})
    assert revoked.status_code == 200
    for response in (
        await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"])),
        await http.post("/oauth/userinfo", data={"access_token": tokens["access_token"]}),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in _challenge(response)


async def test_token_of_another_account_is_refused(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    theirs = await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    ours_host = {"Host": f"{other.subdomain}.localhost"}
    response = await http.get("/oauth/userinfo", headers={**_bearer(theirs["access_token"]), **ours_host})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_refresh_token_is_not_an_access_token(http: httpx.AsyncClient, world: World) -> None:
    tokens = await _openid_token(http, world)
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_jwt_access_token_works(http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock) -> None:
    client = await add_client(
        stores, world.account, clock(), redirect_uris=("https://jwt.example.com/cb",), access_token_format="jwt"
    )
    tokens = await code_flow_tokens(http, client, world.user.email, scope="openid email")
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"sub": str(world.user.id), "email": "user@example.com", "email_verified": False}


async def test_userinfo_is_not_cached(http: httpx.AsyncClient, world: World) -> None:
    """Personal data: the answer must not be stored by caches (RFC 9111 section 5.2.2.5)."""
    tokens = await _openid_token(http, world, scope="openid email")
    response = await http.get("/oauth/userinfo", headers=_bearer(tokens["access_token"]))
    assert "no-store" in response.headers["cache-control"]
