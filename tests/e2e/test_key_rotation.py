"""Issue 5, "How it is checked": key rotation. Tokens signed before `tessera keys rotate`
still validate; new tokens use the new key; the new key was published before it signed.
Against a real server process on SQLite and PostgreSQL, with the real CLI.

Each account has, per algorithm (ES256 and RS256), a current key that signs and a next key
that is already in the JWKS but does not sign yet. `keys rotate` retires the current key
(it stays published until every token it signed has expired), promotes the next one, and
publishes a new next one.

Why the server is restarted after the rotation: a server process caches each account's
signing key and its JWKS for up to 60 s (tessera/key_ring.py CACHE_SECONDS; the JWKS also
goes out with Cache-Control max-age=60). A process that was running during the rotation may
go on signing with the previous key for up to a minute, which is safe precisely because
that key stays published. Waiting out the cache would make this test a minute slower, so
to observe that new tokens use the new key, the test stops the server and starts a new
process on the same port (the issuer includes the port, so the old tokens' `iss` still
matches). The restarted process has no cache: everything it serves and verifies comes from
the database, which makes the checks of old tokens after the restart the decisive ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from tests.e2e import harness
from tests.support import pkce_pair, query_of

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
ALGS = ("ES256", "RS256")


@dataclass(frozen=True)
class Setup:
    database_url: str
    directory: Path
    subdomain: str
    clients: dict[str, dict[str, Any]]  # by alg: confidential clients with JWT access tokens


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A seeded database (no server: each test runs its own, since it restarts it)."""
    directory = tmp_path_factory.mktemp(f"rotation-{request.param}")
    with harness.fresh_database(request.param, directory) as database_url:
        seeded = harness.seed(database_url)

        def create(alg: str) -> dict[str, Any]:
            args = ["clients", "create", "--account", seeded.subdomain, "--name", f"JWT app {alg}"]
            args += ["--identifier", f"jwt-app-{alg.lower()}", "--redirect-uri", harness.REDIRECT_URI]
            args += ["--signing-alg", alg, "--access-token-format", "jwt"]
            return harness.tessera_json(database_url, *args)["client"]

        with ThreadPoolExecutor(max_workers=2) as pool:
            clients = dict(zip(ALGS, pool.map(create, ALGS), strict=True))
        yield Setup(database_url, directory, seeded.subdomain, clients)


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str  # a JWT (RFC 9068): the clients use --access-token-format jwt
    refresh_token: str


def kid_of(token: str) -> str:
    """The kid in a compact JWS's protected header (read, not verified)."""
    kid = jws.extract_compact(token.encode()).protected["kid"]
    assert isinstance(kid, str)
    return kid


def published(issuer: str) -> dict[str, Any]:
    with harness.http_client() as http:
        answer = http.get(f"{issuer}/oauth/jwks")
    assert answer.status_code == 200, answer.text
    jwks: dict[str, Any] = answer.json()
    assert all("d" not in key for key in jwks["keys"]), "the JWKS publishes no private key material"
    return jwks


def kids_by_alg(jwks: dict[str, Any]) -> dict[str, set[str]]:
    kids: dict[str, set[str]] = {alg: set() for alg in ALGS}
    for key in jwks["keys"]:
        kids[key["alg"]].add(key["kid"])
    return kids


def verify(token: str, jwks: dict[str, Any], *, issuer: str, audience: str, typ: str) -> dict[str, Any]:
    """Signature against this JWKS (the key picked by kid), then typ, iss, aud and exp."""
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=list(ALGS))
    assert decoded.header["typ"] == typ
    JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
    ).validate(decoded.claims)
    return dict(decoded.claims)


def obtain_tokens(issuer: str, client: dict[str, Any]) -> Tokens:
    """Authorization code + PKCE through the real login (and, the first time, consent) forms."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client["identifier"],
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "openid read",
        "state": "rotation",
        "nonce": "n-rotation",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorized = harness.sign_in_and_allow(f"{issuer}/oauth/authorizations/new?{urlencode(query)}", ALICE)
    code = query_of(authorized.location)["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": harness.REDIRECT_URI}
    with harness.http_client() as http:
        answer = http.post(
            f"{issuer}/oauth/tokens",
            auth=(client["identifier"], client["secret"]),
            data=dict(form, code_verifier=verifier),
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Tokens(body["id_token"], body["access_token"], body["refresh_token"])


def refresh(issuer: str, client: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    with harness.http_client() as http:
        answer = http.post(
            f"{issuer}/oauth/tokens",
            auth=(client["identifier"], client["secret"]),
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def api_me(issuer: str, access_token: str) -> httpx.Response:
    with harness.http_client() as http:
        return http.get(f"{issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


def introspect(issuer: str, client: dict[str, Any], token: str) -> dict[str, Any]:
    with harness.http_client() as http:
        answer = http.post(
            f"{issuer}/oauth/introspect", auth=(client["identifier"], client["secret"]), data={"token": token}
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def assert_still_honoured(issuer: str, jwks: dict[str, Any], setup: Setup, old: dict[str, Tokens]) -> None:
    """Tokens signed before the rotation: they verify against `jwks`, and Tessera itself
    (its API, which verifies a JWT access token against the account's published keys
    before looking up its jti, and introspection) still accepts them."""
    for alg, tokens in old.items():
        client = setup.clients[alg]
        verify(tokens.id_token, jwks, issuer=issuer, audience=client["identifier"], typ="JWT")
        verify(tokens.access_token, jwks, issuer=issuer, audience=issuer + "/api/v2", typ="at+jwt")
        me = api_me(issuer, tokens.access_token)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == ALICE
        assert introspect(issuer, client, tokens.access_token)["active"] is True


def test_rotation_old_tokens_still_validate_and_new_tokens_use_the_key_published_ahead(setup: Setup) -> None:
    port = harness.free_port()
    issuer = f"http://{setup.subdomain}.localhost:{port}"

    with harness.running_server(setup.database_url, setup.directory / "before-rotation.log", port=port):
        before = kids_by_alg(published(issuer))
        old = {alg: obtain_tokens(issuer, setup.clients[alg]) for alg in ALGS}
        old_kid: dict[str, str] = {}
        next_kid: dict[str, str] = {}
        for alg, tokens in old.items():
            old_kid[alg] = kid_of(tokens.id_token)
            assert kid_of(tokens.access_token) == old_kid[alg], "ID and JWT access tokens sign with the same key"
            # Per algorithm: the key that signs, and the next one, published ahead of its use.
            assert old_kid[alg] in before[alg]
            assert len(before[alg]) == 2, before
            (next_kid[alg],) = before[alg] - {old_kid[alg]}
        assert_still_honoured(issuer, published(issuer), setup, old)

        rotated = harness.tessera(setup.database_url, "keys", "rotate", "--account", setup.subdomain)
        assert rotated.returncode == 0, rotated.stderr
        # The keys that sign from now on (the command names them) are exactly the ones that
        # were already published: a relying party holding the JWKS it fetched before the
        # rotation can verify the tokens they sign.
        for alg in ALGS:
            assert next_kid[alg] in rotated.stdout, rotated.stdout
            assert old_kid[alg] not in rotated.stdout, rotated.stdout

        # The process that was running during the rotation: the old tokens still work, and
        # the JWKS it serves holds both the old keys and the ones that sign now.
        during = published(issuer)
        for alg in ALGS:
            assert {old_kid[alg], next_kid[alg]} <= kids_by_alg(during)[alg]
        assert_still_honoured(issuer, during, setup, old)

    # A new process on the same port (see the module docstring): no cache, only the database.
    with harness.running_server(setup.database_url, setup.directory / "after-rotation.log", port=port):
        after_jwks = published(issuer)
        after = kids_by_alg(after_jwks)
        for alg in ALGS:
            # The retired key, the one that signs now, and a new next key.
            assert old_kid[alg] in after[alg], "the retired key stays published while its tokens live"
            assert next_kid[alg] in after[alg]
            assert len(after[alg]) == 3, after
        assert_still_honoured(issuer, after_jwks, setup, old)

        for alg in ALGS:
            client = setup.clients[alg]
            assert next_kid[alg] != old_kid[alg]
            # A refresh of a pre-rotation refresh token: a new JWT access token, new key.
            renewed = refresh(issuer, client, old[alg].refresh_token)
            assert kid_of(renewed["access_token"]) == next_kid[alg]
            verify(renewed["access_token"], after_jwks, issuer=issuer, audience=issuer + "/api/v2", typ="at+jwt")
            assert api_me(issuer, renewed["access_token"]).status_code == 200
            # A new authorization: the ID token and the access token are signed with the new key.
            fresh = obtain_tokens(issuer, client)
            assert kid_of(fresh.id_token) == next_kid[alg]
            assert kid_of(fresh.access_token) == next_kid[alg]
            claims = verify(fresh.id_token, after_jwks, issuer=issuer, audience=client["identifier"], typ="JWT")
            assert claims["nonce"] == "n-rotation"
            verify(fresh.access_token, after_jwks, issuer=issuer, audience=issuer + "/api/v2", typ="at+jwt")
            assert api_me(issuer, fresh.access_token).status_code == 200
            # The old key signs nothing any more but still verifies what it signed, here and
            # at Tessera's own end_session_endpoint, which checks an id_token_hint's signature.
            verify(old[alg].id_token, after_jwks, issuer=issuer, audience=client["identifier"], typ="JWT")
            hint = {"id_token_hint": old[alg].id_token, "post_logout_redirect_uri": harness.REDIRECT_URI, "state": alg}
            with harness.http_client() as browser:
                out = browser.get(f"{issuer}/access/logout?{urlencode(hint)}")
            assert out.status_code == 302, out.text
            assert out.headers["location"] == f"{harness.REDIRECT_URI}?state={alg}"
