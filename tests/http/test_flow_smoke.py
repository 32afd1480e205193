"""The authorization code flow end to end in process: RFC 6749 sections 4.1.1-4.1.4."""

from __future__ import annotations

import httpx
import pytest

from tests.support import World, obtain_code, pkce_pair

pytestmark = pytest.mark.anyio


async def test_code_flow_with_pkce_reaches_the_api(http: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    response = await obtain_code(
        http, world.web, world.user.email, state="s-1", code_challenge=challenge, code_challenge_method="S256"
    )
    assert response["state"] == "s-1"
    assert response["iss"] == world.origin
    token = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={
            "grant_type": "authorization_code",
            "code": response["code"],
            "redirect_uri": world.web.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"].startswith("tsa_")
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["email"] == world.user.email
