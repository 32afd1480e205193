"""What a `tessera` command changes, a running server acts on at once (storage/changes.py):
the CLI is another process than the server, and the server remembers clients and accounts.
INTERFACE.md section 6: after `rotate-secret` (previous_secret_expires_in 0) the new secret
works and the old one stops; section 8: a registration policy switched off is 404."""

from __future__ import annotations

import json

from tests.e2e import harness
from tests.e2e.harness import Server

TOKEN = "/oauth/tokens"


def _token_status(server: Server, identifier: str, secret: str) -> int:
    with harness.http_client() as http:
        response = http.post(
            f"http://127.0.0.1:{server.port}{TOKEN}",
            headers={"Host": f"{server.subdomain}.localhost:{server.port}"},
            auth=(identifier, secret),
            data={"grant_type": "client_credentials", "scope": "read"},
        )
    return response.status_code


def test_a_secret_rotated_with_the_cli_works_at_once_and_the_old_one_stops(server: Server) -> None:
    created = harness.tessera_json(
        server.database_url,
        "clients", "create", "--account", server.subdomain, "--name", "Rotated", "--identifier", "rotated",
        "--grant-type", "client_credentials",
    )["client"]  # fmt: skip
    old = created["secret"]
    assert _token_status(server, "rotated", old) == 200  # the server now remembers the client
    done = harness.tessera(
        server.database_url, "clients", "rotate-secret", "--account", server.subdomain, "rotated", "--json"
    )
    assert done.returncode == 0, done.stderr
    new = json.loads(done.stdout)["client"]["secret"]
    assert _token_status(server, "rotated", new) == 200
    assert _token_status(server, "rotated", old) == 401


def test_registration_switched_off_with_the_cli_is_404_at_once(server: Server) -> None:
    def register() -> int:
        with harness.http_client() as http:
            return http.post(
                f"http://127.0.0.1:{server.port}/oauth/register",
                headers={"Host": f"{server.subdomain}.localhost:{server.port}"},
                json={"redirect_uris": ["https://agent.example.com/cb"], "token_endpoint_auth_method": "none"},
            ).status_code

    on = harness.tessera(server.database_url, "accounts", "update", server.subdomain, "--registration", "open")
    assert on.returncode == 0, on.stderr
    assert register() == 201
    off = harness.tessera(server.database_url, "accounts", "update", server.subdomain, "--registration", "off")
    assert off.returncode == 0, off.stderr
    assert register() == 404
