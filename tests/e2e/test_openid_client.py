"""Issue 5, "How it is checked": a real relying party, the npm package openid-client (v6),
drives a real Tessera server with nothing but the issuer URL, on SQLite and PostgreSQL.

The RP is tests/e2e/rp/rp.mjs, run with Node: discovery; authorization code + PKCE S256 +
state + nonce, with the real login and consent forms filled over HTTP; the code grant
(openid-client checks state, the RFC 9207 `iss` parameter, PKCE, nonce, alg, iss, aud, exp
and, with enableNonRepudiationChecks, the ID token's signature against the JWKS); UserInfo;
the refresh grant; RP-initiated logout. It exits non-zero on any failure and prints a JSON
summary, whose key facts are checked again here, independently of openid-client.

One client per signing algorithm: ES256 (Tessera's default; the RP is configured with
id_token_signed_response_alg=ES256) and RS256 (the RP left at its defaults: openid-client
then accepts any algorithm the discovery document lists, so the test checks the alg itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e import harness
from tests.e2e.harness import Server

pytestmark = pytest.mark.e2e

RP_DIR = Path(__file__).with_name("rp")
RP_SCRIPT = RP_DIR / "rp.mjs"
ALICE = "alice@example.com"
BOB = "bob@example.com"
CALLBACK = "http://127.0.0.1/cb"
SIGNED_OUT = "http://127.0.0.1/signed-out"
SCOPE = "openid profile email offline_access"


@pytest.fixture(scope="session")
def rp_installed() -> Path:
    """The RP's node_modules: `make test` installs them (npm ci); a bare pytest run does it here."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the openid-client relying party"
    if not (RP_DIR / "node_modules" / "openid-client" / "package.json").is_file():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to install the relying party's packages"
        done = subprocess.run(
            [npm, "ci", "--prefix", str(RP_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return Path(node)


@pytest.fixture(scope="module")
def oidc_clients(server: Server) -> dict[str, dict[str, Any]]:
    """One confidential client per signing algorithm, made with the real CLI; by alg."""

    def create(alg: str) -> dict[str, Any]:
        args = ["clients", "create", "--account", server.subdomain, "--name", f"Node RP {alg}"]
        args += ["--identifier", f"node-rp-{alg.lower()}", "--signing-alg", alg]
        args += ["--redirect-uri", CALLBACK, "--redirect-uri", SIGNED_OUT]
        return harness.tessera_json(server.database_url, *args)["client"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        made = dict(zip(("ES256", "RS256"), pool.map(create, ("ES256", "RS256")), strict=True))
    for alg, client in made.items():
        assert client["signing_alg"] == alg, client
    return made


def run_rp(
    node: Path,
    server: Server,
    client: dict[str, Any],
    *,
    email: str,
    alg: str | None,
    auth: str,
    par: bool = False,
    extra: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    args = ["--issuer", server.issuer, "--client-id", client["identifier"], "--email", email, "--auth", auth, *extra]
    if par:
        args.append("--par")  # RFC 9126: push the request first (tests/e2e/test_par_openid_client.py)
    args += ["--redirect-uri", CALLBACK, "--post-logout-redirect-uri", SIGNED_OUT]
    if alg is not None:
        args += ["--alg", alg]
    # Secrets by environment, not on a command line that other processes can read.
    env = dict(os.environ, RP_CLIENT_SECRET=client["secret"], RP_PASSWORD=harness.PASSWORD)
    return subprocess.run(
        [str(node), str(RP_SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=RP_DIR,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("alg", "configured_alg", "auth"),
    [
        pytest.param("ES256", "ES256", "post", id="ES256-client_secret_post"),
        pytest.param("RS256", None, "basic", id="RS256-default-client_secret_basic"),
    ],
)
def test_openid_client_full_flow(
    server: Server,
    oidc_clients: dict[str, dict[str, Any]],
    rp_installed: Path,
    alg: str,
    configured_alg: str | None,
    auth: str,
) -> None:
    client = oidc_clients[alg]
    done = run_rp(rp_installed, server, client, email=ALICE, alg=configured_alg, auth=auth)
    assert done.returncode == 0, f"rp.mjs exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    summary = json.loads(done.stdout)
    issuer = server.issuer

    discovered = summary["discovery"]
    assert discovered["issuer"] == issuer
    assert discovered["authorization_endpoint"] == f"{issuer}/oauth/authorizations/new"
    assert discovered["token_endpoint"] == f"{issuer}/oauth/tokens"
    assert discovered["userinfo_endpoint"] == f"{issuer}/oauth/userinfo"
    assert discovered["jwks_uri"] == f"{issuer}/oauth/jwks"
    assert discovered["end_session_endpoint"] == f"{issuer}/access/logout"

    authorization = summary["authorization"]
    assert authorization["consent_shown"] is True
    assert authorization["redirected_to"] == CALLBACK
    assert authorization["response_parameters"] == ["code", "iss", "state"]
    assert authorization["iss"] == issuer
    assert authorization["state"] == summary["state"]
    assert authorization["code_prefix"] == "tsc_"

    assert summary["token_response"]["token_type"].lower() == "bearer"
    assert summary["token_response"]["scope"] == SCOPE

    # The ID token, checked again here against the JWKS the server publishes.
    id_token = summary["id_token"]
    assert id_token["header"]["alg"] == alg
    with harness.http_client() as http:
        jwks = http.get(f"{issuer}/oauth/jwks").json()
    published = {key["kid"]: key for key in jwks["keys"]}
    assert id_token["header"]["kid"] in published
    assert published[id_token["header"]["kid"]]["alg"] == alg
    verified = jwt.decode(id_token["compact"], KeySet.import_key_set(jwks), algorithms=[alg])
    claims = id_token["claims"]
    assert verified.claims == claims
    alice = server.user(ALICE)
    assert claims["iss"] == issuer
    assert claims["aud"] in (client["identifier"], [client["identifier"]])
    assert claims["sub"] == str(alice["id"])
    assert claims["nonce"] == summary["nonce"]
    assert claims["at_hash"] and id_token["at_hash_verified"] is True
    assert claims["iat"] <= claims["auth_time"] + 5 and claims["exp"] > claims["iat"]
    assert claims["email"] == ALICE
    assert claims["name"] == alice["name"]

    userinfo = summary["userinfo"]
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == ALICE
    assert userinfo["name"] == alice["name"]

    refreshed = summary["refreshed"]
    assert refreshed["access_token"] != summary["token_response"]["access_token"]
    assert refreshed["refresh_token"] != summary["token_response"]["refresh_token"]
    assert refreshed["scope"] == SCOPE

    logout = summary["logout"]
    assert logout["end_session_url"] == f"{issuer}/access/logout"
    assert {"id_token_hint", "post_logout_redirect_uri", "state"} <= set(logout["parameters"])
    assert logout["status"] == 302
    assert logout["location"] == f"{SIGNED_OUT}?state={logout['state']}"
    assert logout["session_ended"] is True
    # The ID token travelled in the logout URL's query string: the access log must not keep it.
    assert '"GET /access/logout" 302' in server.log()
    assert id_token["compact"] not in server.log()


def test_the_rp_really_checks_the_signing_algorithm(
    server: Server, oidc_clients: dict[str, dict[str, Any]], rp_installed: Path
) -> None:
    """The harness is not vacuous: an RP that expects RS256 refuses the ES256 client's ID
    token, exits non-zero, and says why."""
    done = run_rp(rp_installed, server, oidc_clients["ES256"], email=BOB, alg="RS256", auth="basic")
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    assert 'unexpected JWT "alg" header parameter' in done.stderr
    assert '"expected":"RS256"' in done.stderr


def test_openid_client_with_dpop(server: Server, oidc_clients: dict[str, dict[str, Any]], rp_installed: Path) -> None:
    """RFC 9449 end to end, INTERFACE.md section 10: openid-client v6 (getDPoPHandle, one
    ES256 key) sends DPoP proofs with the code grant, UserInfo and the refresh grant; the
    tokens come back as token_type DPoP; GET /api/v2/users/me with the bound token and a
    proof answers the user, and the same token as a Bearer token is refused with a DPoP
    challenge (section 7.2)."""
    done = run_rp(
        rp_installed,
        server,
        oidc_clients["ES256"],
        email=ALICE,
        alg="ES256",
        auth="basic",
        extra=("--dpop", "--scope", f"{SCOPE} read"),
    )
    assert done.returncode == 0, f"rp.mjs exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    summary = json.loads(done.stdout)
    assert summary["dpop_jwk"]["kty"] == "EC" and "d" not in summary["dpop_jwk"]
    assert summary["token_response"]["token_type"].lower() == "dpop"
    assert summary["refreshed"]["token_type"].lower() == "dpop"
    assert summary["userinfo"]["email"] == ALICE
    api = summary["api"]
    assert api["status"] == 200 and api["email"] == ALICE
    assert api["bearer_status"] == 401
    assert api["bearer_challenge"].startswith("DPoP ") and 'error="invalid_token"' in api["bearer_challenge"]
