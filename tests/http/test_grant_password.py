"""The resource owner password credentials grant: RFC 6749 sections 4.3.2, 4.3.3 and 10.7;
INTERFACE.md "Token endpoint" (off unless enabled for the client). Failed attempts share
the login page's per-account, per-email throttle.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tessera.settings import Settings
from tests.http.test_signing_keys import get_jwks, verify_jws
from tests.support import PASSWORD, Clock, RegisteredClient, World, forms

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


async def password_grant(
    http: httpx.AsyncClient, client: RegisteredClient, username: str, password: str, **extra: str
) -> httpx.Response:
    data = {"grant_type": "password", "username": username, "password": password, "scope": "read", **extra}
    return await http.post(TOKEN, auth=client.basic(), data=data)


async def login_page_attempt(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await http.get("/access/login")
    form = forms(page.text)[-1]
    return await http.post("/access/login", data=dict(form.fields, email=email, password=password))


async def test_refused_for_a_client_without_the_grant(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.web, world.user.email, PASSWORD)
    description = oauth_error(response, 400, "unauthorized_client")
    assert "password" in description


async def test_works_for_a_client_allowed_the_grant(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.legacy, world.user.email, PASSWORD)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    # world.legacy: non-expiring tokens (no expires_in), no refresh_token grant.
    assert set(body) == {"access_token", "token_type", "scope"}
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read"
    me = await http.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == "user@example.com"


async def test_the_username_is_matched_without_regard_to_case(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.legacy, "User@Example.COM", PASSWORD)
    assert response.status_code == 200, response.text


async def test_wrong_password_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.legacy, world.user.email, "not the password")
    description = oauth_error(response, 400, "invalid_grant")
    assert "email or password is wrong" in description


async def test_unknown_user_reads_like_a_wrong_password(http: httpx.AsyncClient, world: World) -> None:
    wrong = await password_grant(http, world.legacy, world.user.email, "not the password")
    unknown = await password_grant(http, world.legacy, "nobody@example.com", PASSWORD)
    # No user enumeration: the same refusal either way.
    assert oauth_error(unknown, 400, "invalid_grant") == oauth_error(wrong, 400, "invalid_grant")


async def test_missing_password_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN, auth=world.legacy.basic(), data={"grant_type": "password", "username": world.user.email}
    )
    description = oauth_error(response, 400, "invalid_request")
    assert "password is required" in description


async def test_unknown_scope_is_invalid_scope(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.legacy, world.user.email, PASSWORD, scope="read superpowers")
    oauth_error(response, 400, "invalid_scope")


async def test_throttled_after_too_many_failures(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    for _ in range(settings.throttle_sign_in_per_email):
        oauth_error(await password_grant(http, world.legacy, world.user.email, "guess"), 400, "invalid_grant")
    # Now even the right password is refused (INTERFACE.md section 9: 429, Retry-After), and
    # the description says why and for how long.
    refused = await password_grant(http, world.legacy, world.user.email, PASSWORD)
    description = oauth_error(refused, 429, "too_many_requests")
    assert 0 < int(refused.headers["retry-after"]) <= settings.throttle_backoff
    assert "too many failed sign-ins" in description
    assert "try again in" in description
    # Another user of the account is not affected.
    assert (await password_grant(http, world.legacy, world.admin.email, PASSWORD)).status_code == 200
    # Once the window has passed, the right password works again.
    clock.advance(settings.throttle_window + 1)
    assert (await password_grant(http, world.legacy, world.user.email, PASSWORD)).status_code == 200


async def test_grant_failures_count_against_the_login_page(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    for _ in range(settings.throttle_sign_in_per_email):
        await password_grant(http, world.legacy, world.user.email, "guess")
    page = await login_page_attempt(http, world.user.email, PASSWORD)
    assert page.status_code == 429, page.status_code
    assert "tessera_session" not in page.cookies


async def test_login_page_failures_count_against_the_grant(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    for _ in range(settings.throttle_sign_in_per_email):
        page = await login_page_attempt(http, world.user.email, "guess")
        assert page.status_code == 401
    refused = await password_grant(http, world.legacy, world.user.email, PASSWORD)
    description = oauth_error(refused, 429, "too_many_requests")
    assert "too many failed sign-ins" in description


async def test_a_nul_character_in_the_username_is_refused_with_a_reason(http: httpx.AsyncClient, world: World) -> None:
    """A NUL cannot be part of any parameter (and PostgreSQL refuses it in text): 400."""
    response = await password_grant(http, world.legacy, "user@example.com\x00", PASSWORD)
    assert "NUL" in oauth_error(response, 400, "invalid_request")


async def test_an_id_token_when_openid_is_granted(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """INTERFACE.md section 4, token endpoint: "`id_token` when `openid` was granted", for
    the password grant as for the others; the user authenticated just now (auth_time)."""
    before = clock()
    response = await password_grant(http, world.legacy, world.user.email, PASSWORD, scope="openid read")
    after = clock()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "openid read"
    header, claims = verify_jws(body["id_token"], await get_jwks(http))
    assert claims["iss"] == world.origin
    assert claims["aud"] == world.legacy.client_id
    assert int(before) <= claims["auth_time"] <= after
    assert "nonce" not in claims
    assert claims["sub"] == str(world.user.id)
    assert header["alg"] == "ES256"


async def test_no_id_token_without_openid(http: httpx.AsyncClient, world: World) -> None:
    response = await password_grant(http, world.legacy, world.user.email, PASSWORD, scope="read")
    assert response.status_code == 200, response.text
    assert "id_token" not in response.json()
