"""Issue 5, "How it is checked": a Python relying party (Authlib) does the OpenID Connect
flow against a real server from nothing but the issuer URL, on SQLite and PostgreSQL.

Discovery (OIDC Discovery 1.0 section 4); authorization code + PKCE S256 + state + nonce
through Authlib's httpx OAuth2Client, with the real login and consent forms filled over
HTTP; the RFC 9207 `iss` response parameter; the ID token verified against the fetched
JWKS (joserfc, as Authlib's own OpenIDMixin.parse_id_token does) and validated with
Authlib's CodeIDToken (iss, aud, exp, iat, nonce, at_hash); UserInfo; the refresh grant;
RP-initiated logout with id_token_hint.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import KeySet

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import forms, query_of

with warnings.catch_warnings():
    # See test_authlib_code_flow.py: Authlib 1.9 runs on the `httpx2` fork when installed
    # and otherwise warns once, at import, that it falls back to httpx.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oidc.core import CodeIDToken

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
CALLBACK = "http://127.0.0.1/cb"
SIGNED_OUT = "http://127.0.0.1/signed-out"
SCOPE = "openid profile email offline_access"


@pytest.fixture(scope="module")
def oidc_clients(server: Server) -> dict[str, dict[str, Any]]:
    """One confidential client per signing algorithm, made with the real CLI; by alg."""

    def create(alg: str) -> dict[str, Any]:
        args = ["clients", "create", "--account", server.subdomain, "--name", f"Authlib RP {alg}"]
        args += ["--identifier", f"authlib-rp-{alg.lower()}", "--signing-alg", alg]
        args += ["--redirect-uri", CALLBACK, "--redirect-uri", SIGNED_OUT]
        return harness.tessera_json(server.database_url, *args)["client"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(("ES256", "RS256"), pool.map(create, ("ES256", "RS256")), strict=True))


def discover(issuer: str) -> dict[str, Any]:
    """OIDC Discovery 1.0 section 4: the configuration at the issuer's well-known path,
    whose `issuer` must be exactly the issuer asked for (section 4.3)."""
    with harness.http_client() as http:
        answer = http.get(f"{issuer}/.well-known/openid-configuration")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    metadata: dict[str, Any] = answer.json()
    assert metadata["issuer"] == issuer
    return metadata


def sign_in(browser: httpx.Client, issuer: str, email: str) -> None:
    """Fill the real login form in `browser`, which keeps the session cookie."""
    page = browser.get(f"{issuer}/access/login")
    login = next(f for f in forms(page.text) if "password" in f.fields)
    done = browser.post(
        urljoin(str(page.url), login.action), data=dict(login.fields, email=email, password=harness.PASSWORD)
    )
    assert done.status_code in (302, 303), done.text


@pytest.mark.parametrize(
    ("alg", "auth_method"),
    [("ES256", "client_secret_post"), ("RS256", "client_secret_basic")],
)
def test_authlib_oidc_flow(server: Server, oidc_clients: dict[str, dict[str, Any]], alg: str, auth_method: str) -> None:
    issuer = server.issuer
    metadata = discover(issuer)
    for needed in ("openid", "profile", "email", "offline_access"):
        assert needed in metadata["scopes_supported"]
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert alg in metadata["id_token_signing_alg_values_supported"]
    assert auth_method in metadata["token_endpoint_auth_methods_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True

    registered = oidc_clients[alg]
    client_id = registered["identifier"]
    rp = OAuth2Client(
        client_id=client_id,
        client_secret=registered["secret"],
        token_endpoint_auth_method=auth_method,
        scope=SCOPE,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        transport=harness.Httpx2LoopbackTransport(),
        timeout=15,
    )
    with rp:
        verifier = generate_token(48)
        nonce = generate_token(24)
        url, state = rp.create_authorization_url(
            metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        authorized = harness.sign_in_and_allow(url, ALICE)
        assert authorized.consent_shown
        response = query_of(authorized.location)
        assert authorized.location.startswith(f"{CALLBACK}?")
        # RFC 9207 section 2.4: the discovery document promises `iss`, so the client must
        # find it and compare it with the issuer it started from.
        assert response["iss"] == issuer
        assert response["state"] == state

        token = rp.fetch_token(
            metadata["token_endpoint"],
            authorization_response=authorized.location,
            state=state,
            code_verifier=verifier,
        )
        assert token["token_type"].lower() == "bearer"
        assert set(token["scope"].split()) == set(SCOPE.split())
        assert token["id_token"] and token["refresh_token"]

        # The ID token: signature against the JWKS, then OIDC Core 3.1.3.7 through Authlib.
        with harness.http_client() as http:
            jwks = http.get(metadata["jwks_uri"]).json()
        assert all("d" not in key for key in jwks["keys"]), "the JWKS publishes no private key material"
        decoded = jwt.decode(
            token["id_token"],
            KeySet.import_key_set(jwks),
            algorithms=metadata["id_token_signing_alg_values_supported"],
        )
        assert decoded.header["alg"] == alg
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client_id},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
                "at_hash": {"essential": True},
            },
            params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
        )
        claims.validate(leeway=5)
        alice = server.user(ALICE)
        assert claims["sub"] == str(alice["id"])
        assert claims["email"] == ALICE
        # at_hash really binds this access token: Authlib refuses it beside another token.
        other = CodeIDToken(decoded.claims, decoded.header, params={"access_token": token["access_token"] + "x"})
        with pytest.raises(InvalidClaimError, match="at_hash"):
            other.validate(leeway=5)

        info = rp.get(metadata["userinfo_endpoint"])
        assert info.status_code == 200, info.text
        assert info.json()["sub"] == claims["sub"]
        assert info.json()["email"] == ALICE
        assert info.json()["name"] == alice["name"]

        first = dict(token)
        refreshed = rp.refresh_token(metadata["token_endpoint"])
        assert refreshed["access_token"] != first["access_token"]
        assert refreshed["refresh_token"] != first["refresh_token"]
        assert rp.get(metadata["userinfo_endpoint"]).json()["sub"] == claims["sub"]

    with harness.http_client() as http:
        # The refresh revoked the access token it replaced (INTERFACE.md "Single use and rotation").
        old = http.get(metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {first['access_token']}"})
        assert old.status_code == 401
        assert 'error="invalid_token"' in old.headers["www-authenticate"]

    # RP-initiated logout: a browser that is signed in follows the end_session_endpoint
    # with the ID token as hint, and comes back to the registered post-logout URI.
    with harness.http_client() as browser:
        sign_in(browser, issuer, ALICE)
        session_cookies = dict(browser.cookies.items())
        me = browser.get(f"{issuer}/api/v2/users/me")
        assert me.status_code == 200 and me.json()["user"]["email"] == ALICE
        logout_state = generate_token(16)
        query = {"id_token_hint": token["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": logout_state}
        out = browser.get(f"{metadata['end_session_endpoint']}?{urlencode(query)}")
        assert out.status_code == 302, out.text
        assert out.headers["location"] == f"{SIGNED_OUT}?{urlencode({'state': logout_state})}"
    # The session ended on the server, not just in the browser: its old cookie is refused.
    with harness.http_client(cookies=session_cookies) as replay:
        after = replay.get(f"{issuer}/api/v2/users/me")
        assert after.status_code == 401, after.text
        back = replay.get(url)
        assert back.status_code == 302
        assert urlsplit(back.headers["location"]).path == "/access/login"

    log = server.log()
    assert '"GET /access/logout" 302' in log
    issued = (token["id_token"], first["access_token"], first["refresh_token"], refreshed["access_token"])
    for value in (*issued, refreshed["refresh_token"], registered["secret"]):
        assert value not in log
