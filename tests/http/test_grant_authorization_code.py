"""The authorization code grant at the token endpoint: RFC 6749 sections 4.1.2, 4.1.3 and
10.5; RFC 7636 section 4.6; RFC 9700 section 2.1.1; INTERFACE.md "Token endpoint"
(single use, lifetimes).
"""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest

from tessera.settings import Settings
from tests.support import Clock, RegisteredClient, World, obtain_code, pkce_pair

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


async def redeem(http: httpx.AsyncClient, client: RegisteredClient, code: str, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, **extra}
    if client.secret is None:
        return await http.post(TOKEN, data={"client_id": client.client_id, **data})
    return await http.post(TOKEN, auth=client.basic(), data=data)


async def me(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await http.get(ME, headers={"Authorization": f"Bearer {access_token}"})


async def web_code(http: httpx.AsyncClient, world: World) -> str:
    return (await obtain_code(http, world.web, world.user.email))["code"]


# --- PKCE: RFC 7636 section 4.6, RFC 9700 section 2.1.1 ------------------------------


async def test_pkce_s256_verifier_redeems_the_code(http: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    returned = await obtain_code(
        http, world.spa, world.user.email, code_challenge=challenge, code_challenge_method="S256"
    )
    response = await redeem(
        http, world.spa, returned["code"], redirect_uri=world.spa.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200, response.text
    assert (await me(http, response.json()["access_token"])).json()["user"]["email"] == world.user.email


async def test_rfc_7636_appendix_b_verifier_matches_its_challenge(http: httpx.AsyncClient, world: World) -> None:
    """The literal example of RFC 7636 Appendix B, so the server's S256 is checked against the RFC."""
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    returned = await obtain_code(
        http, world.spa, world.user.email, code_challenge=challenge, code_challenge_method="S256"
    )
    response = await redeem(
        http, world.spa, returned["code"], redirect_uri=world.spa.redirect_uri, code_verifier=verifier
    )
    assert response.status_code == 200, response.text


async def test_wrong_verifier_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    returned = await obtain_code(
        http, world.spa, world.user.email, code_challenge=challenge, code_challenge_method="S256"
    )
    response = await redeem(
        http, world.spa, returned["code"], redirect_uri=world.spa.redirect_uri, code_verifier=other_verifier
    )
    description = oauth_error(response, 400, "invalid_grant")
    assert "code_verifier" in description


async def test_missing_verifier_after_a_challenge_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    _, challenge = pkce_pair()
    returned = await obtain_code(
        http, world.web, world.user.email, code_challenge=challenge, code_challenge_method="S256"
    )
    response = await redeem(http, world.web, returned["code"], redirect_uri=world.web.redirect_uri)
    description = oauth_error(response, 400, "invalid_grant")
    assert "code_verifier is required" in description


async def test_verifier_without_a_challenge_is_refused(http: httpx.AsyncClient, world: World) -> None:
    # RFC 9700 section 2.1.1: the server must "ensure that if there was no code_challenge in the
    # authorization request, a request to the token endpoint containing a code_verifier is rejected".
    verifier, _ = pkce_pair()
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri, code_verifier=verifier)
    description = oauth_error(response, 400, "invalid_grant")
    assert "no code_challenge" in description


# --- redirect_uri: RFC 6749 section 4.1.3 --------------------------------------------


async def test_redirect_uri_differing_from_the_authorization_request_is_invalid_grant(
    http: httpx.AsyncClient, world: World
) -> None:
    # world.web has two registered URIs; the code was issued for the first.
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri="http://127.0.0.1/callback")
    description = oauth_error(response, 400, "invalid_grant")
    assert "redirect_uri" in description
    assert "https://app.example.com/callback" in description


async def test_redirect_uri_omitted_when_it_was_sent_at_authorization_is_invalid_grant(
    http: httpx.AsyncClient, world: World
) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.web, code)
    description = oauth_error(response, 400, "invalid_grant")
    assert "redirect_uri is required" in description


async def test_redirect_uri_may_be_omitted_when_it_was_omitted_at_authorization(
    http: httpx.AsyncClient, world: World
) -> None:
    # world.legacy has exactly one registered URI, so the authorization request may omit it.
    returned = await obtain_code(http, world.legacy, world.user.email, redirect_uri="")
    response = await redeem(http, world.legacy, returned["code"])
    assert response.status_code == 200, response.text


async def test_unregistered_redirect_uri_for_a_code_issued_without_one_is_invalid_grant(
    http: httpx.AsyncClient, world: World
) -> None:
    returned = await obtain_code(http, world.legacy, world.user.email, redirect_uri="")
    response = await redeem(http, world.legacy, returned["code"], redirect_uri="https://evil.example/cb")
    oauth_error(response, 400, "invalid_grant")


async def spa_code_for(http: httpx.AsyncClient, world: World, redirect_uri: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    returned = await obtain_code(
        http,
        world.spa,
        world.user.email,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    return returned["code"], verifier


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("http://127.0.0.1:53117/callback", 200),
        ("http://127.0.0.1:53118/callback", 400),
        ("http://127.0.0.1/callback", 400),
    ],
)
async def test_loopback_redirect_uri_with_a_port_must_be_sent_again_identically(
    http: httpx.AsyncClient, world: World, sent: str, status: int
) -> None:
    # RFC 8252 section 7.3 lets the port of a loopback URI vary at authorization; RFC 6749
    # section 4.1.3 then wants the token request's value identical to the one sent.
    code, verifier = await spa_code_for(http, world, "http://127.0.0.1:53117/callback")
    response = await redeem(http, world.spa, code, redirect_uri=sent, code_verifier=verifier)
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        oauth_error(response, 400, "invalid_grant")


# --- whose code, and when -------------------------------------------------------------


async def test_code_issued_to_another_client_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.legacy, code, redirect_uri=world.web.redirect_uri)
    description = oauth_error(response, 400, "invalid_grant")
    assert "another client" in description


async def test_which_client_a_code_belongs_to_goes_to_the_log_not_to_the_client(
    http: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The description says what to fix; the operator's detail (OAuthError.debug: which
    stored value mismatched) is logged, holds ids only, and never reaches the response."""
    code = await web_code(http, world)
    with caplog.at_level(logging.INFO, logger="tessera.oauth"):
        response = await redeem(http, world.legacy, code, redirect_uri=world.web.redirect_uri)
    oauth_error(response, 400, "invalid_grant")
    detail = f"issued to client id {world.web.client.id}, presented by client id {world.legacy.client.id}"
    logged = [r.getMessage() for r in caplog.records if r.name == "tessera.oauth"]
    assert any(detail in line and "invalid_grant" in line for line in logged), logged
    assert "client id" not in response.text
    assert not any(code in line for line in logged)  # never the code itself


async def test_unknown_code_is_invalid_grant(http: httpx.AsyncClient, world: World) -> None:
    response = await redeem(http, world.web, "tsc_" + "A" * 43, redirect_uri=world.web.redirect_uri)
    oauth_error(response, 400, "invalid_grant")


async def test_missing_code_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN,
        auth=world.web.basic(),
        data={"grant_type": "authorization_code", "redirect_uri": world.web.redirect_uri},
    )
    description = oauth_error(response, 400, "invalid_request")
    assert "code is required" in description


async def test_expired_code_says_how_long_ago_and_how_long_codes_live(
    http: httpx.AsyncClient, world: World, clock: Clock, settings: Settings
) -> None:
    code = await web_code(http, world)
    clock.advance(settings.authorization_code_lifetime + 7)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    description = oauth_error(response, 400, "invalid_grant")
    # A second of slack: real time passes between issuing the code and redeeming it.
    assert re.search(r"expired [78] seconds ago", description), description
    assert "codes live 300 seconds" in description


async def test_code_just_inside_its_lifetime_is_redeemed(
    http: httpx.AsyncClient, world: World, clock: Clock, settings: Settings
) -> None:
    code = await web_code(http, world)
    clock.advance(settings.authorization_code_lifetime - 5)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert response.status_code == 200, response.text


# --- single use: RFC 6749 section 4.1.2, INTERFACE.md "Single use and rotation" --------


async def test_reused_code_is_invalid_grant_and_revokes_what_it_issued(http: httpx.AsyncClient, world: World) -> None:
    code = await web_code(http, world)
    first = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert (await me(http, tokens["access_token"])).status_code == 200

    second = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    description = oauth_error(second, 400, "invalid_grant")
    assert "already used" in description
    assert "revoked" in description

    refused = await me(http, tokens["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert "revoked" in refused.json()["description"]
    # The refresh token issued from the code goes too.
    refresh = await http.post(
        TOKEN, auth=world.web.basic(), data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    oauth_error(refresh, 400, "invalid_grant")


async def test_a_redemption_that_arrived_before_the_code_was_used_is_concurrent_not_a_replay(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 4: "Of concurrent redemptions exactly one succeeds. Any later
    presentation is invalid_grant and revokes every token issued from that code." A request
    that arrived before the winning redemption was written, and read the code only once it
    was (the clock set back stands for its earlier arrival), is a concurrent one: refused,
    and the winner's tokens stay good. One that arrives after is a replay (RFC 6749
    section 4.1.2) and revokes them."""
    code = await web_code(http, world)
    winner = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert winner.status_code == 200, winner.text
    access_token = winner.json()["access_token"]
    clock.advance(-0.5)
    loser = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert "at the same moment" in oauth_error(loser, 400, "invalid_grant")
    assert (await me(http, access_token)).status_code == 200
    clock.advance(0.5)
    replay = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert "already used" in oauth_error(replay, 400, "invalid_grant")
    assert (await me(http, access_token)).status_code == 401


async def test_a_request_dated_long_before_the_use_is_a_replay_whatever_its_clock(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """RFC 6749 section 4.1.2: a code presented again revokes what it produced. A request
    dated more than a second before the code's use (a node whose clock is far behind) is
    no concurrent redemption: no clock skew makes a replay escape for longer than that."""
    code = await web_code(http, world)
    winner = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert winner.status_code == 200, winner.text
    clock.advance(-5)
    replay = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    assert "already used" in oauth_error(replay, 400, "invalid_grant")
    assert (await me(http, winner.json()["access_token"])).status_code == 401


async def test_concurrent_redemptions_exactly_one_succeeds(http: httpx.AsyncClient, world: World) -> None:
    code = await web_code(http, world)
    responses = await asyncio.gather(
        redeem(http, world.web, code, redirect_uri=world.web.redirect_uri),
        redeem(http, world.web, code, redirect_uri=world.web.redirect_uri),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 400], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 400)
    oauth_error(loser, 400, "invalid_grant")
    winner = next(r for r in responses if r.status_code == 200).json()
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
    described = loser.json()["error_description"]
    if "already used" in described:
        # The loser's lookup ran after the winner's redemption had committed (on PostgreSQL
        # the two requests' statements reach the server on separate connections, in either
        # order): to the server that is a presentation of a used code, a replay, and
        # section 4.1.2 revokes what the code produced. The loser's answer says which it was.
        assert me.status_code == 401
        return
    # Both saw the code unused and the loser lost the claim: the race's winner keeps its
    # token, losing a race is not a replay (INTERFACE.md "of concurrent redemptions exactly
    # one succeeds").
    assert "at the same moment" in described, loser.text
    assert me.status_code == 200
    # A presentation after the redemption is a replay: it revokes what the code produced.
    replay = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri)
    oauth_error(replay, 400, "invalid_grant")
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {winner['access_token']}"})
    assert me.status_code == 401


# --- lifetimes: INTERFACE.md "Token endpoint" -----------------------------------------


async def test_requested_lifetimes_inside_the_bounds_override_the_clients(
    http: httpx.AsyncClient, world: World
) -> None:
    code = await web_code(http, world)
    response = await redeem(
        http,
        world.web,
        code,
        redirect_uri=world.web.redirect_uri,
        expires_in="3600",
        refresh_token_expires_in="864000",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 864000


@pytest.mark.parametrize(
    ("expires_in", "refresh_token_expires_in"),
    [("300", "604800"), ("172800", "7776000")],
)
async def test_lifetime_bounds_are_inclusive(
    http: httpx.AsyncClient, world: World, expires_in: str, refresh_token_expires_in: str
) -> None:
    code = await web_code(http, world)
    response = await redeem(
        http,
        world.web,
        code,
        redirect_uri=world.web.redirect_uri,
        expires_in=expires_in,
        refresh_token_expires_in=refresh_token_expires_in,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == int(expires_in)
    assert body["refresh_token_expires_in"] == int(refresh_token_expires_in)


async def test_a_shorter_requested_lifetime_takes_effect(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri, expires_in="300")
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    clock.advance(290)
    assert (await me(http, token)).status_code == 200
    clock.advance(20)
    refused = await me(http, token)
    assert refused.status_code == 401
    assert "expired" in refused.json()["description"]


async def test_a_longer_requested_lifetime_takes_effect(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri, expires_in="7200")
    assert response.status_code == 200, response.text
    clock.advance(3600)  # past the client's default of 1800
    assert (await me(http, response.json()["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("params", "bounds"),
    [
        ({"expires_in": "299"}, "between 300 and 172800"),
        ({"expires_in": "172801"}, "between 300 and 172800"),
        ({"refresh_token_expires_in": "604799"}, "between 604800 and 7776000"),
        ({"refresh_token_expires_in": "7776001"}, "between 604800 and 7776000"),
        # refresh no longer than the access token: here also below the refresh bounds
        ({"expires_in": "172800", "refresh_token_expires_in": "172800"}, "604800"),
    ],
)
async def test_lifetimes_out_of_bounds_are_invalid_request_naming_the_bounds(
    http: httpx.AsyncClient, world: World, params: dict[str, str], bounds: str
) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri, **params)
    description = oauth_error(response, 400, "invalid_request")
    assert bounds in description


@pytest.mark.parametrize("value", ["abc", "1e3", "-300", "300.5", " 300", "\u0663\u0660\u0660"])
async def test_non_numeric_lifetimes_are_invalid_request(http: httpx.AsyncClient, world: World, value: str) -> None:
    code = await web_code(http, world)
    response = await redeem(http, world.web, code, redirect_uri=world.web.redirect_uri, expires_in=value)
    description = oauth_error(response, 400, "invalid_request")
    assert "expires_in" in description
