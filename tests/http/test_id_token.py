"""ID tokens from the token endpoint and the OpenID parameters of the authorization
endpoint: OpenID Connect Core 1.0 sections 2, 3.1.2.1, 3.1.2.6, 3.1.3.3, 3.1.3.6, 3.1.3.7
and 5.4 (issue 5 item 3).

Signatures are verified against GET /oauth/jwks with `cryptography` alone, and at_hash is
computed here with hashlib (section 3.1.3.6), never by the code under test.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.test_signing_keys import code_flow_tokens, decode_unverified, get_jwks, verify_jws
from tests.support import (
    PASSWORD,
    Clock,
    RegisteredClient,
    World,
    add_client,
    authorize_url,
    consent,
    forms,
    pkce_pair,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.anyio


def _at_hash(access_token: str) -> str:
    """Section 3.1.3.6: base64url of the left-most 128 bits of SHA-256 (ES256 and RS256)."""
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode("ascii")).digest()[:16]).rstrip(b"=").decode()


async def _verified(http: httpx.AsyncClient, id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return verify_jws(id_token, await get_jwks(http))


async def _me(http: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    response = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    return response.json()["user"]  # type: ignore[no-any-return]


async def _redeem(http: httpx.AsyncClient, client: RegisteredClient, code: str, verifier: str) -> dict[str, Any]:
    response = await http.post(
        "/oauth/tokens",
        auth=client.basic(),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def rs256(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    return await add_client(
        stores, world.account, clock(), redirect_uris=("https://rs.example.com/cb",), signing_alg="RS256"
    )


# --- the ID token's claims -----------------------------------------------------------------


async def test_openid_scope_yields_a_verifiable_id_token(http: httpx.AsyncClient, world: World) -> None:
    """Section 3.1.3.3: the token response carries id_token; 3.1.3.7 items 2-3, 9-10."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid read", nonce="n-0S6_WzA2Mj")
    header, claims = await _verified(http, tokens["id_token"])
    me = await _me(http, tokens["access_token"])
    assert header["alg"] == "ES256"  # Tessera's default (issue 5 item 2)
    assert header.get("typ", "JWT") != "at+jwt"  # never mistaken for an access token (RFC 9068 section 4)
    assert claims["iss"] == world.origin
    assert claims["sub"] == str(me["id"])
    assert claims["sub"] == str(world.user.id)
    assert claims["aud"] == world.web.client_id
    assert isinstance(claims["iat"], int)
    assert isinstance(claims["exp"], int)
    assert claims["exp"] > claims["iat"]
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["at_hash"] == _at_hash(tokens["access_token"])
    assert claims["amr"] == ["pwd"]  # RFC 8176 section 2: the user signed in with a password


async def test_iat_and_auth_time(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """Section 2: auth_time is when the End-User authenticated, not when the token was made."""
    # The sign-in happens somewhere between these two readings (under load, seconds apart),
    # and auth_time is in whole seconds.
    before = clock()
    await sign_in(http, world.user.email)
    after = clock()
    clock.advance(600)
    tokens = await code_flow_tokens_without_new_sign_in(http, world.web)
    _, claims = await _verified(http, tokens["id_token"])
    assert int(before) <= claims["auth_time"] <= after
    assert abs(claims["iat"] - clock()) <= 2
    assert claims["iat"] - claims["auth_time"] >= 599


async def code_flow_tokens_without_new_sign_in(
    http: httpx.AsyncClient, client: RegisteredClient, scope: str = "openid", **params: str
) -> dict[str, Any]:
    """Authorize with the session the browser already has (consenting if asked)."""
    verifier, challenge = pkce_pair()
    page = await http.get(
        authorize_url(client, scope=scope, code_challenge=challenge, code_challenge_method="S256", **params)
    )
    if page.status_code == 200:
        page = await consent(http, page)
    assert page.status_code in (302, 303), page.text
    return await _redeem(http, client, query_of(page.headers["location"])["code"], verifier)


async def _refresh(http: httpx.AsyncClient, client: RegisteredClient, refresh_token: str, **extra: str) -> Any:
    response = await http.post(
        "/oauth/tokens",
        auth=client.basic(),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **extra},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_refresh_returns_an_id_token_when_openid_was_granted_oidc_12_2(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 4: "id_token when openid was granted". OIDC Core section 12.2:
    the same iss, sub and aud as the original, iat the time of the new one, and auth_time,
    if present, only the original authentication's (not kept by a refresh token: absent)."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid read", nonce="n-0S6_WzA2Mj")
    _, original = await _verified(http, tokens["id_token"])
    clock.advance(120)
    refreshed = await _refresh(http, world.web, tokens["refresh_token"])
    header, claims = await _verified(http, refreshed["id_token"])
    assert header["alg"] == "ES256"
    assert (claims["iss"], claims["sub"], claims["aud"]) == (original["iss"], original["sub"], original["aud"])
    assert claims["iat"] >= original["iat"] + 119
    assert "auth_time" not in claims and "nonce" not in claims
    assert claims["at_hash"] == _at_hash(refreshed["access_token"])
    # A refresh that narrows the scope to leave out openid gets no ID token.
    narrowed = await _refresh(http, world.web, refreshed["refresh_token"], scope="read")
    assert "id_token" not in narrowed


async def test_no_id_token_on_refresh_without_openid(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="read")
    assert "id_token" not in await _refresh(http, world.web, tokens["refresh_token"])


async def test_no_nonce_claim_when_none_was_sent(http: httpx.AsyncClient, world: World) -> None:
    """Section 2: nonce is in the ID token when it was in the request, not otherwise."""
    tokens = await code_flow_tokens(http, world.web, world.user.email)
    _, claims = await _verified(http, tokens["id_token"])
    assert "nonce" not in claims


async def test_no_profile_or_email_claims_without_those_scopes(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    _, claims = await _verified(http, tokens["id_token"])
    for claim in ("name", "preferred_username", "email", "email_verified", "updated_at"):
        assert claim not in claims, claim


async def test_profile_and_email_claims(http: httpx.AsyncClient, world: World) -> None:
    """Sections 5.1 and 5.4: the profile scope gives name etc., the email scope email and
    email_verified."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid profile email")
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["name"] == "Eve User"
    assert claims["email"] == "user@example.com"
    assert claims["email_verified"] is False
    assert claims["preferred_username"] == "user@example.com"
    assert isinstance(claims["updated_at"], int)


async def test_profile_alone_gives_no_email(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid profile")
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["name"] == "Eve User"
    assert "email" not in claims


async def test_no_id_token_without_openid(http: httpx.AsyncClient, world: World) -> None:
    """Section 3.1.2.1: without openid the request is plain OAuth 2.0."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="read")
    assert "id_token" not in tokens


async def test_rs256_client_gets_rs256_id_tokens(
    http: httpx.AsyncClient, world: World, rs256: RegisteredClient
) -> None:
    tokens = await code_flow_tokens(http, rs256, world.user.email, nonce="abc")
    header, claims = await _verified(http, tokens["id_token"])
    assert header["alg"] == "RS256"
    jwk = next(k for k in (await get_jwks(http))["keys"] if k["kid"] == header["kid"])
    assert jwk["kty"] == "RSA"
    assert claims["aud"] == rs256.client_id
    assert claims["at_hash"] == _at_hash(tokens["access_token"])  # RS256 also hashes with SHA-256


async def test_public_client_gets_an_id_token(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_flow_tokens(http, world.spa, world.user.email, nonce="spa-nonce")
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["aud"] == world.spa.client_id
    assert claims["nonce"] == "spa-nonce"


async def test_an_id_token_is_not_an_access_token(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9068 section 4 / OIDC Core 2: the ID token says who signed in; the API refuses it."""
    tokens = await code_flow_tokens(http, world.web, world.user.email, scope="openid read")
    response = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {tokens['id_token']}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_sub_is_stable_across_authorizations(http: httpx.AsyncClient, world: World) -> None:
    """Issue 5: "sub is stable per user and account"."""
    first = decode_unverified((await code_flow_tokens(http, world.web, world.user.email))["id_token"])[1]
    second = decode_unverified((await code_flow_tokens(http, world.spa, world.user.email))["id_token"])[1]
    assert first["sub"] == second["sub"] == str(world.user.id)


# --- prompt, max_age, login_hint: section 3.1.2.1 -----------------------------------------


async def test_prompt_none_with_a_remembered_grant_returns_a_code_without_pages(
    http: httpx.AsyncClient, world: World
) -> None:
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    verifier, challenge = pkce_pair()
    response = await http.get(
        authorize_url(
            world.web,
            scope="openid",
            prompt="none",
            nonce="silent",
            state="s",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert response.headers["location"].startswith(world.web.redirect_uri + "?")
    assert params["state"] == "s"
    assert params["iss"] == world.origin
    tokens = await _redeem(http, world.web, params["code"], verifier)
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["nonce"] == "silent"
    assert claims["sub"] == str(world.user.id)


async def test_prompt_none_without_a_session_is_login_required(http: httpx.AsyncClient, world: World) -> None:
    """Section 3.1.2.6 login_required, sent back to the client with state and iss."""
    response = await http.get(authorize_url(world.web, scope="openid", prompt="none", state="s1"))
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params["error"] == "login_required"
    assert params["state"] == "s1"
    assert params["iss"] == world.origin


async def test_prompt_none_without_consent_is_consent_required(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    response = await http.get(authorize_url(world.web, scope="openid", prompt="none", state="s2"))
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params["error"] == "consent_required"
    assert params["state"] == "s2"


async def test_prompt_none_beyond_max_age_is_login_required(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    clock.advance(120)
    response = await http.get(authorize_url(world.web, scope="openid", prompt="none", max_age="60"))
    returned = query_of(response.headers["location"])
    assert returned["error"] == "login_required"
    # The reason is the age of the sign-in, not that nobody is signed in.
    assert "max_age (60)" in returned["error_description"], returned


async def test_max_age_exceeded_shows_the_login_page_again(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """Section 3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST
    attempt to actively re-authenticate the End-User"; section 2: auth_time then tells when."""
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    clock.advance(120)
    verifier, challenge = pkce_pair()
    request = authorize_url(
        world.web, scope="openid", max_age="60", code_challenge=challenge, code_challenge_method="S256"
    )
    response = await http.get(request)
    assert response.status_code == 302
    login = response.headers["location"]
    assert login.startswith("/access/login?")
    # Sign in again through the page the browser was sent to, and come back.
    page = await http.get(login)
    form = forms(page.text)[-1]
    before = clock()
    signed = await http.post("/access/login", data=dict(form.fields, email=world.user.email, password=PASSWORD))
    after = clock()
    assert signed.status_code in (302, 303)
    back = await http.get(signed.headers["location"])
    assert back.status_code == 302, back.text
    tokens = await _redeem(http, world.web, query_of(back.headers["location"])["code"], verifier)
    _, claims = await _verified(http, tokens["id_token"])
    # auth_time is whole seconds (a JSON number of seconds, section 2), taken during the sign-in.
    assert int(before) <= claims["auth_time"] <= after


async def test_max_age_not_exceeded_needs_no_login(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    clock.advance(30)
    response = await http.get(authorize_url(world.web, scope="openid", max_age="3600"))
    assert response.status_code == 302
    assert "code" in query_of(response.headers["location"])


async def test_prompt_login_shows_the_login_page_despite_a_session(http: httpx.AsyncClient, world: World) -> None:
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    response = await http.get(authorize_url(world.web, scope="openid", prompt="login"))
    assert response.status_code == 302
    assert response.headers["location"].startswith("/access/login?")


async def test_prompt_select_account_offers_the_current_user(http: httpx.AsyncClient, world: World) -> None:
    """Section 3.1.2.1 select_account: the user may continue as who is signed in."""
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    verifier, challenge = pkce_pair()
    response = await http.get(
        authorize_url(
            world.web, scope="openid", prompt="select_account", code_challenge=challenge, code_challenge_method="S256"
        )
    )
    assert response.status_code == 302
    chooser = await http.get(response.headers["location"])
    assert chooser.status_code == 200
    assert "Eve User" in chooser.text
    cont = next(f for f in forms(chooser.text) if f.fields.get("action") == "continue")
    after = await http.post(cont.action, data=cont.fields)
    back = await http.get(after.headers["location"])
    assert back.status_code == 302, back.text
    tokens = await _redeem(http, world.web, query_of(back.headers["location"])["code"], verifier)
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["sub"] == str(world.user.id)


async def test_prompt_select_account_lets_the_user_switch(http: httpx.AsyncClient, world: World) -> None:
    """The Zendesk complaint about the cached session: another user can sign in instead."""
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    verifier, challenge = pkce_pair()
    response = await http.get(
        authorize_url(
            world.web, scope="openid", prompt="select_account", code_challenge=challenge, code_challenge_method="S256"
        )
    )
    chooser = await http.get(response.headers["location"])
    sign_in_form = forms(chooser.text)[-1]
    assert "action" not in sign_in_form.fields
    after = await http.post(
        sign_in_form.action, data=dict(sign_in_form.fields, email=world.admin.email, password=PASSWORD)
    )
    assert after.status_code in (302, 303)
    page = await http.get(after.headers["location"])
    if page.status_code == 200:  # the admin has not consented to this client yet
        page = await consent(http, page)
    tokens = await _redeem(http, world.web, query_of(page.headers["location"])["code"], verifier)
    _, claims = await _verified(http, tokens["id_token"])
    assert claims["sub"] == str(world.admin.id)


async def test_login_hint_fills_in_the_email(http: httpx.AsyncClient, world: World) -> None:
    """Section 3.1.2.1 login_hint: a hint to the OP about the login identifier."""
    response = await http.get(authorize_url(world.web, scope="openid", login_hint=world.user.email))
    assert response.status_code == 302
    login = response.headers["location"]
    assert login.startswith("/access/login?")
    page = await http.get(login)
    assert forms(page.text)[-1].fields["email"] == world.user.email


async def test_login_hint_is_escaped_on_the_page(http: httpx.AsyncClient, world: World) -> None:
    hint = '"><script>alert(1)</script>'
    response = await http.get(authorize_url(world.web, scope="openid", login_hint=hint))
    page = await http.get(response.headers["location"])
    assert "<script>alert(1)</script>" not in page.text
    assert forms(page.text)[-1].fields["email"] == hint


# --- OIDC Core 3.1.2.1: id_token_hint at the authorization endpoint ---------------------------


async def test_id_token_hint_of_another_user_is_login_required_under_prompt_none(
    http: httpx.AsyncClient, world: World
) -> None:
    """ "If the End-User identified by the ID Token is logged in or is logged in by the
    request, then the Authorization Server returns a positive response; otherwise, it
    SHOULD return an error, such as login_required." A relying party renewing its user's
    session silently must not get a code for whoever else is signed in."""
    admins = (await code_flow_tokens(http, world.web, world.admin.email, scope="openid"))["id_token"]
    users = (await code_flow_tokens(http, world.web, world.user.email, scope="openid"))["id_token"]
    # The user is signed in now, and has consented.
    silent = {"scope": "openid", "prompt": "none"}
    other = await http.get(authorize_url(world.web, **silent, id_token_hint=admins))
    returned = query_of(other.headers["location"])
    assert returned["error"] == "login_required"
    assert "id_token_hint" in returned["error_description"]
    same = await http.get(authorize_url(world.web, **silent, id_token_hint=users))
    assert "code" in query_of(same.headers["location"]), same.headers["location"]
    forged = await http.get(authorize_url(world.web, **silent, id_token_hint="eyJhbGciOiJub25lIn0.e30."))
    refused = query_of(forged.headers["location"])
    assert refused["error"] == "invalid_request"
    assert "id_token_hint" in refused["error_description"]


async def test_id_token_hint_of_another_user_shows_the_login_page_once(http: httpx.AsyncClient, world: World) -> None:
    """Interactively, the hint asks for a sign-in; whoever then signs in is the answer (the
    request that comes back from the login page no longer carries the hint)."""
    admins = (await code_flow_tokens(http, world.web, world.admin.email, scope="openid"))["id_token"]
    await code_flow_tokens(http, world.web, world.user.email, scope="openid")
    answer = await http.get(authorize_url(world.web, scope="openid", id_token_hint=admins))
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith("/access/login?")
    back = query_of(location)["return_to"]
    assert "id_token_hint" not in back
    again = await http.get(back)  # the user is still the one signed in
    assert "code" in query_of(again.headers["location"]), again.headers["location"]


async def test_a_jwt_access_token_is_not_an_id_token_hint(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """OIDC Core 3.1.2.1: the hint is "ID Token previously issued by the Authorization
    Server". A JWT access token (typ at+jwt, RFC 9068 section 2.1) is signed by the same keys
    and carries a sub, but is not one: refused as a hint that this account did not issue."""
    jwt_web = await add_client(
        stores, world.account, clock(), redirect_uris=("https://jwt.example.com/cb",), access_token_format="jwt"
    )
    tokens = await code_flow_tokens(http, jwt_web, world.user.email, scope="openid")
    assert decode_unverified(tokens["access_token"])[0]["typ"] == "at+jwt"
    answer = await http.get(authorize_url(jwt_web, scope="openid", prompt="none", id_token_hint=tokens["access_token"]))
    refused = query_of(answer.headers["location"])
    assert refused["error"] == "invalid_request"
    assert "id_token_hint" in refused["error_description"]
    accepted = await http.get(authorize_url(jwt_web, scope="openid", prompt="none", id_token_hint=tokens["id_token"]))
    assert "code" in query_of(accepted.headers["location"]), accepted.headers["location"]
