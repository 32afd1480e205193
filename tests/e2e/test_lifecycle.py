"""The token lifecycle against a real server whose clock moves (tests/e2e/faketime.py), on
SQLite and PostgreSQL: expiry (RFC 6750 section 3.1), refresh through a client library's
own automatic refresh (RFC 6749 section 6, Authlib's OAuth2Client), rotation and reuse
detection (RFC 9700 section 4.14.2, INTERFACE.md "Single use and rotation"), and revocation
(RFC 7009 section 2.1: revoking a refresh token revokes its family).

Issue 3, "How it is checked": the end-to-end test with a real OAuth client library, and the
refresh race with real parallel requests against the real server process.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from tests.e2e import faketime, harness
from tests.e2e.harness import Server
from tests.support import pkce_pair, query_of

with warnings.catch_warnings():
    # As in test_authlib_code_flow.py: Authlib 1.9 runs on the `httpx2` fork when installed
    # and otherwise warns once at import that it falls back to httpx.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
BOB = "bob@example.com"
SHORT_LIFETIME = 300  # the least access-token lifetime a client may have (INTERFACE.md section 3)
REUSE_GRACE = 10  # TESSERA_REFRESH_REUSE_GRACE's default; the server runs without the variable
RACERS = 6


@dataclass(frozen=True)
class Clocked:
    """A seeded server whose clock the test moves, and a client whose tokens live 300 s."""

    server: Server
    clock: faketime.ServerClock
    short_lived: dict[str, Any]  # the client as `clients create --json` printed it, secret in full

    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds, self.server.port)


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def clocked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clocked]:
    """conftest.py's `server`, but started under libfaketime, plus a client created with
    `--access-token-lifetime 300`. The clock only moves forward: each test moves it by what
    it needs, relative to wherever the previous test left it."""
    directory = tmp_path_factory.mktemp(f"lifecycle-{request.param}")
    with harness.fresh_database(request.param, directory) as database_url:
        seeded = harness.seed(database_url)
        short_lived = harness.tessera_json(
            database_url,
            *("clients", "create", "--account", seeded.subdomain, "--name", "Short-lived App"),
            *("--identifier", "short-lived", "--redirect-uri", harness.REDIRECT_URI),
            *("--access-token-lifetime", str(SHORT_LIFETIME)),
        )["client"]
        clock = faketime.ServerClock(directory)
        log_path = directory / "server.log"
        with faketime.running_server(database_url, log_path, clock) as port:
            server = Server(request.param, port, database_url, log_path, seeded)
            yield Clocked(server, clock, short_lived)


def _me(issuer: str, access_token: str) -> httpx.Response:
    with harness.http_client() as http:
        return http.get(f"{issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


def _assert_invalid_token(answer: httpx.Response, reason: str) -> None:
    """RFC 6750 section 3.1 and INTERFACE.md "Calling the API": 401, invalid_token, and why."""
    assert answer.status_code == 401, answer.text
    challenge = answer.headers["www-authenticate"]
    assert challenge.startswith("Bearer "), challenge
    assert 'error="invalid_token"' in challenge, challenge
    assert answer.json()["error"] == "invalid_token"
    assert reason in answer.json()["description"], answer.json()
    assert reason in challenge, challenge


def test_expiry_automatic_refresh_and_revocation_through_authlib(clocked: Clocked) -> None:
    """Obtain tokens with the code flow; let the access token expire; Authlib refreshes on its
    own at the next API call (and hands the rotated tokens to update_token); revoking the
    refresh token (RFC 7009) ends the session: the API answers 401 and refreshing fails."""
    server, client_row = clocked.server, clocked.short_lived
    issuer = server.issuer
    token_url, revoke_url, me_url = f"{issuer}/oauth/tokens", f"{issuer}/oauth/revoke", f"{issuer}/api/v2/users/me"
    seen: list[httpx.Response] = []
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def update_token(token: dict[str, Any], **kwargs: Any) -> None:
        # What an application does here: store the new tokens (a copy, as the library keeps its own).
        updates.append((dict(token), kwargs))

    with OAuth2Client(
        client_id=client_row["identifier"],
        client_secret=client_row["secret"],
        token_endpoint_auth_method="client_secret_basic",
        scope="read",
        redirect_uri=harness.REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint=token_url,  # what makes Authlib refresh by itself, in ensure_active_token
        update_token=update_token,
        transport=harness.Httpx2LoopbackTransport(),
        timeout=15,
        event_hooks={"response": [seen.append]},
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(f"{issuer}/oauth/authorizations/new", code_verifier=verifier)
        authorized = harness.sign_in_and_allow(url, ALICE)
        first = client.fetch_token(authorization_response=authorized.location, state=state, code_verifier=verifier)
        assert first["expires_in"] == SHORT_LIFETIME  # the client's own lifetime, not the 1800 s default
        assert first["refresh_token"].startswith("tsr_")
        first_access, first_refresh = first["access_token"], first["refresh_token"]

        me = client.get(me_url)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == ALICE
        assert updates == []  # a fresh token: nothing was refreshed

        clocked.advance(SHORT_LIFETIME + 100)

        # For the server the token is now 400 s old: refused, saying it expired.
        _assert_invalid_token(_me(issuer, first_access), "expired")
        # Authlib judges expiry by expires_at against the clock of *this* process, which
        # libfaketime does not move, so it still believes the token fresh and sends it as is.
        stale = client.get(me_url)
        _assert_invalid_token(stale, "expired")
        assert stale.request.headers["authorization"] == f"Bearer {first_access}"
        assert updates == []

        # A real client calling 400 s after the token was issued would find expires_at
        # (issue time + 300, set by Authlib from expires_in) 100 s in its past. Make the
        # library's token say exactly that: shift expires_at back by the 400 s the server's
        # clock moved. Nothing else is touched; the refresh below is the library's own.
        client.token["expires_at"] -= SHORT_LIFETIME + 100

        me = client.get(me_url)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == ALICE
        refresh_call, api_call = seen[-2], seen[-1]
        assert refresh_call.request.url == token_url
        assert refresh_call.status_code == 200, refresh_call.text
        assert refresh_call.request.headers["authorization"].startswith("Basic ")
        assert parse_qs(refresh_call.request.content.decode()) == {
            "grant_type": ["refresh_token"],
            "refresh_token": [first_refresh],
            "scope": ["read"],
        }
        # update_token got the rotated pair (RFC 9700 section 4.14.2): new access and refresh tokens.
        assert len(updates) == 1
        stored, told = updates[0]
        assert told == {"refresh_token": first_refresh}  # Authlib names the refresh token it replaced
        second_access, second_refresh = stored["access_token"], stored["refresh_token"]
        assert second_access.startswith("tsa_") and second_access != first_access
        assert second_refresh.startswith("tsr_") and second_refresh != first_refresh
        assert stored["expires_in"] == SHORT_LIFETIME
        assert api_call.request.headers["authorization"] == f"Bearer {second_access}"
        assert client.token["refresh_token"] == second_refresh

        # RFC 7009 through the library: revoke the refresh token, authenticated with Basic.
        revoked = client.revoke_token(revoke_url, token=second_refresh, token_type_hint="refresh_token")
        assert revoked.status_code == 200, revoked.text
        assert revoked.request.headers["authorization"].startswith("Basic ")

        # Section 2.1: the access token of the same grant goes with it; the library's next
        # call (its token is not expired, so it does not refresh) is refused.
        after = client.get(me_url)
        _assert_invalid_token(after, "revoked")
        assert after.request.headers["authorization"] == f"Bearer {second_access}"
        assert len(updates) == 1

        with pytest.raises(OAuthError) as refused:
            client.refresh_token(token_url)
        assert refused.value.error == "invalid_grant"
        assert "revoked" in str(refused.value.description)
        assert seen[-1].status_code == 400
        assert parse_qs(seen[-1].request.content.decode())["refresh_token"] == [second_refresh]
        assert len(updates) == 1


def _code_flow_tokens(server: Server, email: str) -> dict[str, Any]:
    """Tokens for the seeded confidential client, by the real login and consent pages."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": server.client["identifier"],
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read",
        "state": "lifecycle",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorized = harness.sign_in_and_allow(f"{server.issuer}/oauth/authorizations/new?{urlencode(query)}", email)
    with harness.http_client() as http:
        answer = http.post(
            f"{server.issuer}/oauth/tokens",
            auth=(server.client["identifier"], server.client["secret"]),
            data={
                "grant_type": "authorization_code",
                "code": query_of(authorized.location)["code"],
                "redirect_uri": harness.REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _refresh(server: Server, refresh_token: str, http: httpx.Client | None = None) -> httpx.Response:
    auth = (server.client["identifier"], server.client["secret"])
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if http is not None:
        return http.post(f"{server.issuer}/oauth/tokens", auth=auth, data=form)
    with harness.http_client() as fresh:
        return fresh.post(f"{server.issuer}/oauth/tokens", auth=auth, data=form)


def _refresh_concurrently(server: Server, refresh_token: str, racers: int) -> list[httpx.Response]:
    """`racers` threads, each with its own warmed-up connection, present one refresh token at once."""
    return harness.race(server.issuer, racers, lambda http: _refresh(server, refresh_token, http))


def test_refresh_race_one_wins_and_reuse_after_the_grace_window_revokes_the_family(clocked: Clocked) -> None:
    """INTERFACE.md "Single use and rotation" (RFC 9700 section 4.14.2): of concurrent uses of
    one refresh token exactly one succeeds and the others hear it was just used, without any
    revocation; presented again after TESSERA_REFRESH_REUSE_GRACE, the used token revokes the
    whole family and the description says so."""
    server = clocked.server
    issued = _code_flow_tokens(server, BOB)
    original_access, original_refresh = issued["access_token"], issued["refresh_token"]
    assert _me(server.issuer, original_access).status_code == 200

    answers = _refresh_concurrently(server, original_refresh, RACERS)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * (RACERS - 1), [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    for loser in (a for a in answers if a.status_code == 400):
        assert loser.json()["error"] == "invalid_grant", loser.text
        assert "just used" in loser.json()["error_description"], loser.text
        assert "revoked" not in loser.json()["error_description"], loser.text
    assert winner["access_token"].startswith("tsa_") and winner["access_token"] != original_access
    assert winner["refresh_token"].startswith("tsr_") and winner["refresh_token"] != original_refresh

    # Inside the window nothing was revoked but what rotation revokes: the winner's tokens
    # work, the access token the used refresh token came with does not.
    me = _me(server.issuer, winner["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == BOB
    _assert_invalid_token(_me(server.issuer, original_access), "revoked")

    clocked.advance(REUSE_GRACE + 1)

    replay = _refresh(server, original_refresh)
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"
    description = replay.json()["error_description"]
    assert "already used" in description and "every token of this authorization has been revoked" in description

    # The whole family went: the winner's access token and its refresh token too.
    _assert_invalid_token(_me(server.issuer, winner["access_token"]), "revoked")
    again = _refresh(server, winner["refresh_token"])
    assert again.status_code == 400, again.text
    assert again.json()["error"] == "invalid_grant"
    assert "revoked" in again.json()["error_description"]
