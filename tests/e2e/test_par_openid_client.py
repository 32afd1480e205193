"""RFC 9126 end to end with a real client: openid-client v6 (npm), which pushes its
authorization request with buildAuthorizationUrlWithPAR, to a client registered with the
real CLI as requiring PAR (--require-par). The RP (tests/e2e/rp/rp.mjs --par) then runs the
whole flow: the pushed request with PKCE S256, state and nonce; the browser sent with
client_id and request_uri only, through the real login and consent pages; the code grant;
UserInfo; refresh; logout. openid-client was chosen because it implements PAR itself
(discovery's pushed_authorization_request_endpoint, client authentication at the PAR
endpoint, the 201 response), independently of Tessera.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.e2e.test_openid_client import CALLBACK, SIGNED_OUT, rp_installed, run_rp

pytestmark = pytest.mark.e2e

__all__ = ["rp_installed"]  # the fixture, used below by name

CAROL = "bob@example.com"


@pytest.fixture(scope="module")
def par_client(server: Server) -> dict[str, Any]:
    args = ["clients", "create", "--account", server.subdomain, "--name", "Node RP PAR"]
    args += ["--identifier", "node-rp-par", "--require-par"]
    args += ["--redirect-uri", CALLBACK, "--redirect-uri", SIGNED_OUT]
    client: dict[str, Any] = harness.tessera_json(server.database_url, *args)["client"]
    assert client["require_pushed_authorization_requests"] is True
    return client


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_openid_client_pushes_then_authorizes_by_reference(
    server: Server, par_client: dict[str, Any], rp_installed: Path, auth: str
) -> None:
    done = run_rp(rp_installed, server, par_client, email=CAROL, alg=None, auth=auth, par=True)
    assert done.returncode == 0, f"rp.mjs exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    summary = json.loads(done.stdout)
    issuer = server.issuer
    # RFC 9126 section 5 discovery, section 4 request by reference: client_id and request_uri only.
    assert summary["par"]["endpoint"] == f"{issuer}/oauth/par"
    assert summary["par"]["authorization_parameters"] == ["client_id", "request_uri"]
    assert summary["par"]["request_uri_prefix"] == "urn:ietf:params:oauth:request_uri"
    authorization = summary["authorization"]
    assert authorization["redirected_to"] == CALLBACK
    assert authorization["response_parameters"] == ["code", "iss", "state"]
    assert authorization["state"] == summary["state"]
    assert summary["id_token"]["claims"]["nonce"] == summary["nonce"]
    assert summary["refreshed"]["access_token"] != summary["token_response"]["access_token"]
    assert summary["logout"]["session_ended"] is True
