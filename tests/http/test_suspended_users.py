"""Suspended users (INTERFACE.md section 6, "Users": "A suspended user cannot sign in, and
their tokens and sessions stop working at once").

Suspending a user through the management layer also ends their sessions and revokes their
tokens. These tests set `suspended_at` alone, as a suspension that missed something would
leave it, and check that every entrance still refuses the user: the sign-in page, the
password grant, the API, UserInfo, introspection, sessions, and the grants that mint tokens.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Connection

from tessera.model import User
from tessera.storage.schema import users
from tessera.storage.stores import Stores
from tests.support import PASSWORD, World, authorize_url, code_tokens, obtain_code, pkce_pair, sign_in

pytestmark = pytest.mark.anyio

WRONG_PASSWORD = "Tr0ub4dor&3 guess"


async def _set_suspended(app: Any, stores: Stores, user: User, suspended_at: float | None) -> None:
    """Only the column: no session ended, no token revoked. The server's user memo is emptied,
    as a change made through that process empties it (storage/cache.py)."""

    def change(conn: Connection) -> None:
        conn.execute(users.update().where(users.c.id == user.id).values(suspended_at=suspended_at))

    await stores.db.write(change)
    app.state.services.stores.users._memo.clear()


def _me(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_sign_in_page_refuses_a_suspended_user(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: a suspended user cannot sign in; the page says so and whom to ask, but only
    after the password was right, so it never tells a guesser whether a password was."""
    await _set_suspended(app, stores, world.user, 1.0)
    refused = await sign_in(http, "user@example.com")
    assert refused.status_code == 401
    assert "suspended" in refused.text and "contact an admin" in refused.text
    assert "tessera_session" not in http.cookies
    wrong = await sign_in(http, "user@example.com", WRONG_PASSWORD)
    assert wrong.status_code == 401
    assert "suspended" not in wrong.text and "email or password is wrong" in wrong.text
    await _set_suspended(app, stores, world.user, None)
    assert (await sign_in(http, "user@example.com")).status_code == 303


async def test_the_password_grant_refuses_a_suspended_user(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6 and RFC 6749 section 5.2: the resource owner's credentials are not valid, invalid_grant."""
    await _set_suspended(app, stores, world.user, 1.0)
    data = {"grant_type": "password", "username": "user@example.com", "scope": "read"}
    right = await http.post("/oauth/tokens", auth=world.legacy.basic(), data={**data, "password": PASSWORD})
    assert right.status_code == 400
    assert right.json()["error"] == "invalid_grant"
    assert "suspended" in right.json()["error_description"]
    wrong = await http.post("/oauth/tokens", auth=world.legacy.basic(), data={**data, "password": WRONG_PASSWORD})
    assert wrong.json()["error"] == "invalid_grant"
    assert "suspended" not in wrong.json()["error_description"]


async def test_a_suspended_users_token_is_refused_by_the_api_and_introspection(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: their tokens stop working: the API answers 401 invalid_token saying why
    (RFC 6750 section 3.1), introspection answers active=false (RFC 7662 section 2.2)."""
    tokens = await code_tokens(http, world.web, "user@example.com")
    access = tokens["access_token"]
    assert (await http.get("/api/v2/users/me", headers=_me(access))).status_code == 200
    await _set_suspended(app, stores, world.user, 1.0)
    me = await http.get("/api/v2/users/me", headers=_me(access))
    assert me.status_code == 401
    assert me.json()["error"] == "invalid_token"
    assert "suspended" in me.json()["description"]
    assert 'error="invalid_token"' in me.headers["www-authenticate"]
    for token in (access, tokens["refresh_token"]):
        introspected = await http.post("/oauth/introspect", auth=world.web.basic(), data={"token": token})
        assert introspected.json() == {"active": False}
    await _set_suspended(app, stores, world.user, None)
    assert (await http.get("/api/v2/users/me", headers=_me(access))).status_code == 200


async def test_userinfo_refuses_a_suspended_users_token(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6 and OIDC Core section 5.3.3: the token is not valid, invalid_token."""
    tokens = await code_tokens(http, world.web, "user@example.com", "openid")
    assert (await http.get("/oauth/userinfo", headers=_me(tokens["access_token"]))).status_code == 200
    await _set_suspended(app, stores, world.user, 1.0)
    response = await http.get("/oauth/userinfo", headers=_me(tokens["access_token"]))
    assert response.status_code == 401
    assert "suspended" in response.json()["error_description"]


async def test_a_suspended_users_session_is_not_accepted(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: their sessions stop working at once: the API and the authorization endpoint
    treat the browser as signed out."""
    assert (await sign_in(http, "user@example.com")).status_code == 303
    assert (await http.get("/api/v2/users/me")).status_code == 200
    await _set_suspended(app, stores, world.user, 1.0)
    assert (await http.get("/api/v2/users/me")).status_code == 401
    page = await http.get(authorize_url(world.web))
    assert page.status_code == 302
    assert page.headers["location"].startswith("/access/login?")
    apps = await http.get("/access/apps")
    assert apps.headers["location"].startswith("/access/login?")


async def test_a_suspended_users_refresh_token_and_code_are_refused(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6 and RFC 6749 section 5.2: no grant mints a token for a suspended user, even
    from a refresh token or a code issued before the suspension."""
    tokens = await code_tokens(http, world.web, "user@example.com")
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        http, world.web, "user@example.com", code_challenge=challenge, code_challenge_method="S256"
    )
    await _set_suspended(app, stores, world.user, 1.0)
    refreshed = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.json()["error"] == "invalid_grant"
    assert "suspended" in refreshed.json()["error_description"]
    redeemed = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={
            "grant_type": "authorization_code",
            "code": code["code"],
            "redirect_uri": world.web.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert redeemed.json()["error"] == "invalid_grant"
    assert "suspended" in redeemed.json()["error_description"]


async def test_client_credentials_refuses_when_the_owner_is_suspended(
    app: Any, http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: a client_credentials token acts as the client's owner; a suspended owner's
    client gets unauthorized_client (RFC 6749 section 5.2) until the owner is restored."""
    data = {"grant_type": "client_credentials", "scope": "read"}
    assert world.machine.client.user_id == world.admin.id
    await _set_suspended(app, stores, world.admin, 1.0)
    refused = await http.post("/oauth/tokens", auth=world.machine.basic(), data=data)
    assert refused.json()["error"] == "unauthorized_client"
    assert "suspended" in refused.json()["error_description"]
    await _set_suspended(app, stores, world.admin, None)
    assert (await http.post("/oauth/tokens", auth=world.machine.basic(), data=data)).status_code == 200
