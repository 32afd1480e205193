"""DPoP authorization code binding: RFC 9449 sections 10 and 10.1. The authorization
request names the key in `dpop_jkt`, or a pushed request (RFC 9126) carries a DPoP proof;
the code is then redeemed only with a proof signed by that key. "If they do not match, it
MUST reject the request", and an authorization server that supports PAR and DPoP MUST
support both mechanisms.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.dpop_support import DpopKey
from tests.support import Clock, World, consent, obtain_code, pkce_pair, query_of, sign_in

pytestmark = pytest.mark.anyio

TOKEN = "/oauth/tokens"
PAR = "/oauth/par"


async def _redeem(
    http: httpx.AsyncClient, world: World, clock: Clock, code: str, verifier: str, key: DpopKey | None
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": world.spa.redirect_uri,
        "code_verifier": verifier,
        "client_id": world.spa.client_id,
    }
    headers = {} if key is None else {"DPoP": key.proof("POST", world.origin + TOKEN, clock())}
    return await http.post(TOKEN, data=data, headers=headers)


def _refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert words in response.json()["error_description"]


async def _only_its_key_redeems(
    http: httpx.AsyncClient, world: World, clock: Clock, code: str, verifier: str, key: DpopKey
) -> None:
    _refused(await _redeem(http, world, clock, code, verifier, None), "bound to a DPoP key")
    _refused(await _redeem(http, world, clock, code, verifier, DpopKey()), "signed by another key")
    # The refusals did not spend the code: the right key redeems it, and gets bound tokens.
    redeemed = await _redeem(http, world, clock, code, verifier, key)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["token_type"] == "DPoP"


async def test_section_10_dpop_jkt_binds_the_code_to_the_key(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        http,
        world.spa,
        world.user.email,
        code_challenge=challenge,
        code_challenge_method="S256",
        dpop_jkt=key.jkt,
    )
    await _only_its_key_redeems(http, world, clock, code["code"], verifier, key)


async def test_a_code_without_dpop_jkt_is_redeemed_with_or_without_a_proof(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    verifier, challenge = pkce_pair()
    code = await obtain_code(http, world.spa, world.user.email, code_challenge=challenge, code_challenge_method="S256")
    redeemed = await _redeem(http, world, clock, code["code"], verifier, None)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["token_type"] == "bearer"


@pytest.mark.parametrize("value", ["not-a-thumbprint", "A" * 44])
async def test_a_dpop_jkt_that_cannot_bind_a_code_is_invalid_request(
    http: httpx.AsyncClient, world: World, value: str
) -> None:
    """An error the client is told (redirected, RFC 6749 section 4.1.2.1), never ignored."""
    await sign_in(http, world.user.email)
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": world.spa.client_id,
        "redirect_uri": world.spa.redirect_uri,
        "scope": "read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "dpop_jkt": value,
    }
    answer = await http.get("/oauth/authorizations/new?" + urlencode(params))
    assert answer.status_code in (302, 303), answer.text
    returned = query_of(answer.headers["location"])
    assert returned["error"] == "invalid_request"
    assert "is not a JWK SHA-256 thumbprint" in returned["error_description"]


async def _code_through_par(http: httpx.AsyncClient, world: World, pushed: httpx.Response) -> str:
    assert pushed.status_code == 201, pushed.text
    await sign_in(http, world.user.email)
    query = urlencode({"client_id": world.spa.client_id, "request_uri": pushed.json()["request_uri"]})
    page = await http.get("/oauth/authorizations/new?" + query)
    answer = await consent(http, page) if page.status_code == 200 else page
    assert answer.status_code in (302, 303), answer.text
    return query_of(answer.headers["location"])["code"]


def _pushed_params(world: World, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": world.spa.client_id,
        "response_type": "code",
        "redirect_uri": world.spa.redirect_uri,
        "scope": "read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


async def test_section_10_1_a_proof_at_the_par_endpoint_binds_the_code(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    verifier, challenge = pkce_pair()
    pushed = await http.post(
        PAR, data=_pushed_params(world, challenge), headers={"DPoP": key.proof("POST", world.origin + PAR, clock())}
    )
    code = await _code_through_par(http, world, pushed)
    await _only_its_key_redeems(http, world, clock, code, verifier, key)


async def test_section_10_1_dpop_jkt_pushed_without_a_proof_binds_too(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    verifier, challenge = pkce_pair()
    pushed = await http.post(PAR, data=_pushed_params(world, challenge, dpop_jkt=key.jkt))
    code = await _code_through_par(http, world, pushed)
    await _only_its_key_redeems(http, world, clock, code, verifier, key)


async def test_section_10_1_dpop_jkt_and_a_proof_of_another_key_are_refused(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key, other = DpopKey(), DpopKey()
    _, challenge = pkce_pair()
    both = await http.post(
        PAR,
        data=_pushed_params(world, challenge, dpop_jkt=other.jkt),
        headers={"DPoP": key.proof("POST", world.origin + PAR, clock())},
    )
    assert both.status_code == 400, both.text
    assert both.json()["error"] == "invalid_request"
    assert "dpop_jkt names another key" in both.json()["error_description"]


@pytest.mark.parametrize("proof", ["garbage", "a.b.c"])
async def test_a_proof_at_the_par_endpoint_is_checked(http: httpx.AsyncClient, world: World, proof: str) -> None:
    _, challenge = pkce_pair()
    pushed = await http.post(PAR, data=_pushed_params(world, challenge), headers={"DPoP": proof})
    assert pushed.status_code == 400, pushed.text
    assert pushed.json()["error"] == "invalid_dpop_proof"


async def test_a_proof_for_another_url_is_refused_at_the_par_endpoint(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    _, challenge = pkce_pair()
    proof = DpopKey().proof("POST", world.origin + TOKEN, clock())
    pushed = await http.post(PAR, data=_pushed_params(world, challenge), headers={"DPoP": proof})
    assert pushed.status_code == 400, pushed.text
    assert pushed.json()["error"] == "invalid_dpop_proof"
    assert "htu" in pushed.json()["error_description"]
