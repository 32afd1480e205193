"""private_key_jwt (RFC 7523 section 2.2, OIDC Core section 9) against a real server, driven by
an independent client library: Authlib's client side (PrivateKeyJWT on its httpx
OAuth2Client), on SQLite and PostgreSQL. The key set is registered with the real CLI
(`tessera clients create --jwks FILE`), which also refuses a private key.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import query_of

with warnings.catch_warnings():
    # As in test_authlib_code_flow.py: import Authlib's httpx integration quietly.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
PRIVATE_KEY = RSAKey.generate_key(2048, parameters={"kid": "service-key-1"})


def _register(server: Server, directory: Path, identifier: str) -> dict[str, Any]:
    jwks = directory / f"{identifier}.jwks.json"
    jwks.write_text(json.dumps({"keys": [PRIVATE_KEY.as_dict(private=False)]}))
    return harness.tessera_json(
        server.database_url,
        *("clients", "create", "--account", server.subdomain, "--name", "Keyed Service"),
        *("--identifier", identifier, "--redirect-uri", harness.REDIRECT_URI),
        *("--grant-type", "client_credentials", "--grant-type", "authorization_code"),
        *("--jwks", str(jwks)),
    )["client"]


def _client(server: Server, identifier: str, seen: list[httpx.Response], **options: Any) -> OAuth2Client:
    token_url = f"{server.issuer}/oauth/tokens"
    client = OAuth2Client(
        client_id=identifier,
        client_secret=PRIVATE_KEY,
        token_endpoint_auth_method=PrivateKeyJWT.name,
        revocation_endpoint_auth_method=PrivateKeyJWT.name,
        transport=harness.Httpx2LoopbackTransport(),
        timeout=15,
        event_hooks={"response": [seen.append]},
        **options,
    )
    # Authlib's default: aud = the token endpoint URL, exp = iat + 3600, a random jti.
    client.register_client_auth_method(PrivateKeyJWT(token_url))
    return client


def test_authlib_authenticates_with_its_private_key(server: Server, tmp_path: Path) -> None:
    """client_credentials, introspection and revocation, each authenticated by a fresh
    assertion from Authlib (RFC 7523 section 2.2); the registered client has no secret."""
    registered = _register(server, tmp_path, "keyed-service")
    assert registered["secret"] is None and registered["jwks"]["keys"][0]["kid"] == "service-key-1"
    issuer = server.issuer
    seen: list[httpx.Response] = []
    with _client(server, "keyed-service", seen, scope="read") as client:
        token = client.fetch_token(f"{issuer}/oauth/tokens", grant_type="client_credentials")
        sent = seen[-1].request
        assert b"client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" in sent.content
        assert "authorization" not in sent.headers
        assert token["access_token"].startswith("tsa_")
        introspected = client.introspect_token(f"{issuer}/oauth/introspect", token=token["access_token"])
        assert introspected.status_code == 200, introspected.text
        assert introspected.json()["active"] is True
        revoked = client.revoke_token(f"{issuer}/oauth/revoke", token=token["access_token"])
        assert revoked.status_code == 200, revoked.text
        assert client.introspect_token(f"{issuer}/oauth/introspect", token=token["access_token"]).json() == {
            "active": False
        }
        with harness.http_client() as plain:
            replay = plain.post(f"{issuer}/oauth/tokens", content=sent.content, headers=dict(sent.headers))
        assert replay.status_code == 401
        assert "already used" in replay.json()["error_description"]


def test_authlib_code_flow_with_private_key_jwt(server: Server, tmp_path: Path) -> None:
    """The authorization code grant with PKCE, the code redeemed with an assertion."""
    _register(server, tmp_path, "keyed-web")
    seen: list[httpx.Response] = []
    with _client(
        server, "keyed-web", seen, scope="read", redirect_uri=harness.REDIRECT_URI, code_challenge_method="S256"
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            f"{server.issuer}/oauth/authorizations/new", code_verifier=verifier
        )
        authorized = harness.sign_in_and_allow(url, ALICE)
        assert query_of(authorized.location)["state"] == state
        token = client.fetch_token(
            f"{server.issuer}/oauth/tokens",
            authorization_response=authorized.location,
            state=state,
            code_verifier=verifier,
        )
        assert seen[-1].status_code == 200
        assert token["access_token"].startswith("tsa_")
        me = client.get(f"{server.issuer}/api/v2/users/me")
    assert me.json()["user"]["email"] == ALICE


def test_the_cli_refuses_a_private_key(server: Server, tmp_path: Path) -> None:
    """A key set with private members is refused, in one line naming the problem."""
    leaked = tmp_path / "leaked.json"
    leaked.write_text(json.dumps({"keys": [PRIVATE_KEY.as_dict(private=True)]}))
    done = harness.tessera(
        server.database_url,
        *("clients", "create", "--account", server.subdomain, "--name", "Leaky", "--identifier", "leaky"),
        *("--grant-type", "client_credentials", "--jwks", str(leaked)),
    )
    assert done.returncode != 0
    assert "private key members" in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr


def test_the_cli_updates_and_removes_a_key_set(server: Server, tmp_path: Path) -> None:
    """`clients update --jwks FILE` retires the client's secret (its only method is then
    private_key_jwt); `--no-jwks` removes the set; mistakes are one line naming the problem."""
    created = harness.tessera_json(
        server.database_url,
        *("clients", "create", "--account", server.subdomain, "--name", "Rolling", "--identifier", "rolling"),
        *("--grant-type", "client_credentials"),
    )["client"]
    secret = created["secret"]
    jwks = tmp_path / "rolling.json"
    jwks.write_text(json.dumps({"keys": [PRIVATE_KEY.as_dict(private=False)]}))
    updated = harness.tessera_json(
        server.database_url, "clients", "update", "rolling", "--account", server.subdomain, "--jwks", str(jwks)
    )["client"]
    assert updated["jwks"]["keys"][0]["kid"] == "service-key-1" and updated["secret"] is None
    with harness.http_client() as plain:
        refused = plain.post(
            f"{server.issuer}/oauth/tokens", auth=("rolling", secret), data={"grant_type": "client_credentials"}
        )
    assert refused.status_code == 401 and "private_key_jwt" in refused.json()["error_description"]

    not_json = tmp_path / "not.json"
    not_json.write_text("{keys: nope")
    mistakes = {
        "not JSON": (("--jwks", str(not_json)), "not valid JSON"),
        "both": (("--jwks", str(jwks), "--no-jwks"), "either --jwks FILE or --no-jwks"),
    }
    for name, (args, expected) in mistakes.items():
        done = harness.tessera(
            server.database_url, "clients", "update", "rolling", "--account", server.subdomain, *args
        )
        assert done.returncode != 0, name
        assert expected in done.stderr and done.stderr.strip().count("\n") == 0, (name, done.stderr)

    removed = harness.tessera_json(
        server.database_url, "clients", "update", "rolling", "--account", server.subdomain, "--no-jwks"
    )["client"]
    assert removed["jwks"] is None
    rotated = harness.tessera_json(
        server.database_url, "clients", "rotate-secret", "rolling", "--account", server.subdomain
    )
    assert rotated["client"]["secret"].startswith("tss_")
