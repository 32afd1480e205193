"""RFC 6749 sections 4.1 and 4.4, RFC 7636 and RFC 9207 against a real server, driven by an
independent client library (Authlib's httpx OAuth2Client), on SQLite and PostgreSQL.

The login and consent forms are the real pages, filled over HTTP (harness.sign_in_and_allow).
"""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import pkce_pair, query_of

with warnings.catch_warnings():
    # Authlib 1.9's httpx integration runs on the `httpx2` fork when it is installed (the
    # MCP SDK brings it, so its clients get harness.Httpx2LoopbackTransport) and otherwise
    # warns, once at import, that it falls back to httpx. Its module sets an "always" filter
    # for that warning when first imported, so import it first and then ignore the warning.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
BOB = "bob@example.com"


def library_client(server: Server, responses: list[httpx.Response] | None = None, **options: Any) -> OAuth2Client:
    hooks = {"response": [responses.append]} if responses is not None else {}
    return OAuth2Client(
        client_id=server.client["identifier"],
        client_secret=server.client["secret"],
        token_endpoint_auth_method="client_secret_basic",
        transport=harness.Httpx2LoopbackTransport(),
        timeout=15,
        event_hooks=hooks,
        **options,
    )


def test_code_flow_with_pkce_state_and_iss(server: Server) -> None:
    """Authorization code + PKCE S256 + state through Authlib; iss is the account (RFC 9207)."""
    issuer = f"http://acme.localhost:{server.port}"
    token_url = f"{issuer}/oauth/tokens"
    seen: list[httpx.Response] = []
    with library_client(
        server, seen, scope="read", redirect_uri=harness.REDIRECT_URI, code_challenge_method="S256"
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(f"{issuer}/oauth/authorizations/new", code_verifier=verifier)
        sent = parse_qs(urlsplit(url).query)
        assert sent["code_challenge_method"] == ["S256"]
        assert sent["state"] == [state]

        authorized = harness.sign_in_and_allow(url, ALICE)
        assert authorized.consent_shown
        assert authorized.location.startswith("http://127.0.0.1/cb?")
        response = query_of(authorized.location)
        assert response["state"] == state
        assert response["iss"] == issuer
        assert response["code"].startswith("tsc_")

        token = client.fetch_token(
            token_url, authorization_response=authorized.location, state=state, code_verifier=verifier
        )
        exchange = seen[-1]
        assert exchange.request.url.path == "/oauth/tokens"
        assert exchange.request.headers["authorization"].startswith("Basic ")
        assert b"client_secret" not in exchange.request.content
        assert exchange.status_code == 200
        assert exchange.headers["cache-control"] == "no-store"
        assert token["token_type"] == "bearer"
        assert token["scope"] == "read"
        assert token["expires_in"] == 1800
        assert token["access_token"].startswith("tsa_")
        assert token["refresh_token"].startswith("tsr_")
        assert token["refresh_token_expires_in"] == 2592000

        me = client.get(f"{issuer}/api/v2/users/me")
        assert me.status_code == 200, me.text
        alice = server.user(ALICE)
        assert me.json()["user"]["id"] == alice["id"]
        assert me.json()["user"]["email"] == ALICE
        assert me.json()["user"]["role"] == "end-user"

        first_access, first_refresh = token["access_token"], token["refresh_token"]
        refreshed = client.refresh_token(token_url)
        assert seen[-1].status_code == 200
        assert refreshed["access_token"].startswith("tsa_")
        assert refreshed["access_token"] != first_access
        assert refreshed["refresh_token"].startswith("tsr_")
        assert refreshed["refresh_token"] != first_refresh
        assert client.get(f"{issuer}/api/v2/users/me.json").json()["user"]["email"] == ALICE

    with harness.http_client() as plain:
        old = plain.get(f"{issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {first_access}"})
    assert old.status_code == 401
    assert old.headers["www-authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in old.headers["www-authenticate"]
    assert old.json()["error"] == "invalid_token"

    log = server.log()
    assert '"POST /oauth/tokens" 200' in log  # the server does log these requests, to this file
    for secret in (response["code"], first_access, first_refresh, refreshed["access_token"], server.client["secret"]):
        assert secret not in log


def test_client_credentials_acts_as_the_owner(server: Server) -> None:
    """RFC 6749 section 4.4 through Authlib: no refresh token; the token acts as the client's owner."""
    issuer = server.issuer
    seen: list[httpx.Response] = []
    with library_client(server, seen, scope="read") as client:
        token = client.fetch_token(f"{issuer}/oauth/tokens", grant_type="client_credentials")
        assert seen[-1].status_code == 200
        assert token["token_type"] == "bearer"
        assert token["scope"] == "read"
        assert token["expires_in"] == 1800
        assert token["access_token"].startswith("tsa_")
        assert "refresh_token" not in token
        me = client.get(f"{issuer}/api/v2/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == server.seeded.admin["id"]
    assert me.json()["user"]["role"] == "admin"
    assert server.client["user_id"] == server.seeded.admin["id"]


def _redeem_concurrently(server: Server, code: str, verifier: str, racers: int) -> list[httpx.Response]:
    """`racers` threads, each with its own warmed-up connection, post the same code at once."""
    auth = (server.client["identifier"], server.client["secret"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": harness.REDIRECT_URI}
    return harness.race(
        server.issuer,
        racers,
        lambda http: http.post(f"{server.issuer}/oauth/tokens", auth=auth, data=dict(form, code_verifier=verifier)),
    )


def test_concurrent_redemptions_of_one_code_exactly_one_wins(server: Server) -> None:
    """INTERFACE.md "Single use": of concurrent redemptions of a code exactly one succeeds; a
    later presentation is invalid_grant and revokes the token the code produced."""
    for _round in range(3):
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": server.client["identifier"],
            "redirect_uri": harness.REDIRECT_URI,
            "scope": "read",
            "state": "race",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        authorized = harness.sign_in_and_allow(f"{server.issuer}/oauth/authorizations/new?{urlencode(query)}", BOB)
        code = query_of(authorized.location)["code"]

        answers = _redeem_concurrently(server, code, verifier, racers=4)
        assert sorted(a.status_code for a in answers) == [200, 400, 400, 400], [a.text for a in answers]
        assert [a.json()["error"] for a in answers if a.status_code == 400] == ["invalid_grant"] * 3
        winner = next(a for a in answers if a.status_code == 200).json()["access_token"]

        with harness.http_client() as http:
            again = http.post(
                f"{server.issuer}/oauth/tokens",
                auth=(server.client["identifier"], server.client["secret"]),
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": harness.REDIRECT_URI,
                    "code_verifier": verifier,
                },
            )
            assert again.status_code == 400
            assert again.json()["error"] == "invalid_grant"
            me = http.get(f"{server.issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {winner}"})
            assert me.status_code == 401
