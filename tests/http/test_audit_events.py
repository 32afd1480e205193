"""The audit log's entries from sign-in, consent, revocation, replay and key rotation
(INTERFACE.md section 6, "Audit log": "Recorded, in the same transaction as the change:
sign-in success and failure, sign-out; ... app authorized (consent) and consent revoked;
token revoked; ... code replay and refresh-token reuse detected (with the family revoked);
... signing key rotated ... No audit entry ever holds a secret, token, code or password,
whole or in part.")

Every test signs in from one documented address (RFC 5737's TEST-NET-3) and checks that
address, the action, source and actor of each entry, and then searches every column of
every entry of the account for each secret the test handled and each of its prefixes
longer than four characters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

import httpx
import pytest

from tessera.model import AuditEntry
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import (
    PASSWORD,
    Clock,
    World,
    authorize_url,
    code_and_tokens,
    consent,
    forms,
    sign_in,
)

pytestmark = pytest.mark.anyio

ADDRESS = "203.0.113.7"  # RFC 5737 documentation address, as the ASGI scope's client
WRONG_PASSWORD = "Tr0ub4dor&3 guess"


@pytest.fixture
async def http(app: Any, world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(ADDRESS, 40123))
    async with httpx.AsyncClient(transport=transport, base_url=world.origin, follow_redirects=False) as client:
        yield client


async def _entries(stores: Stores, world: World, action: str | None = None) -> list[AuditEntry]:
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(action=action))
    return [log.entry for log in logs]


async def _only(stores: Stores, world: World, action: str) -> AuditEntry:
    found = await _entries(stores, world, action)
    assert len(found) == 1, found
    return found[0]


async def _assert_no_secret(stores: Stores, world: World, *secrets: str | None) -> None:
    """No column of any entry holds a secret, or any prefix of it longer than 4 characters."""
    entries = await _entries(stores, world)
    assert entries, "the test recorded nothing to search"
    columns = [str(value) for entry in entries for value in asdict(entry).values()]
    for secret in [PASSWORD, WRONG_PASSWORD, world.web.secret, world.legacy.secret, *secrets]:
        assert secret
        for length in range(5, len(secret) + 1):
            leaked = [column for column in columns if secret[:length] in column]
            assert not leaked, f"{secret[:length]!r} is in the audit log: {leaked}"


def _assert_by_user(entry: AuditEntry, world: World) -> None:
    assert (entry.actor_id, entry.actor_name, entry.ip_address) == (world.user.id, "Eve User", ADDRESS)


# --- sign-in and sign-out -------------------------------------------------------------------------


async def test_a_sign_in_is_recorded_for_the_user(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: "sign-in success"."""
    assert (await sign_in(http, "user@example.com")).status_code == 303
    entry = await _only(stores, world, "sign_in")
    _assert_by_user(entry, world)
    assert (entry.source_type, entry.source_id, entry.source_label) == ("user", world.user.id, "user@example.com")
    assert "sign-in page" in entry.change_description
    await _assert_no_secret(stores, world, http.cookies.get("tessera_session"))


async def test_a_wrong_password_is_recorded_with_an_unknown_actor(
    http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: "sign-in ... failure"; the actor is unknown, so it is named by the email typed."""
    assert (await sign_in(http, "USER@example.com", WRONG_PASSWORD)).status_code == 401
    entry = await _only(stores, world, "sign_in_failed")
    assert (entry.actor_id, entry.actor_name, entry.ip_address) == (None, "user@example.com", ADDRESS)
    assert (entry.source_type, entry.source_id) == ("user", world.user.id)
    assert "password was wrong" in entry.change_description
    assert "failure 1 " in entry.change_description
    assert await _entries(stores, world, "sign_in") == []
    await _assert_no_secret(stores, world)


async def test_an_unknown_email_is_recorded_without_a_source(
    http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: a failure for an email that is no user's is recorded too, about nobody."""
    long_email = "nobody." + "x" * 300 + "@example.com"
    assert (await sign_in(http, "nobody@example.com", WRONG_PASSWORD)).status_code == 401
    assert (await sign_in(http, long_email, WRONG_PASSWORD)).status_code == 401
    long_entry, entry = await _entries(stores, world, "sign_in_failed")
    assert (entry.actor_id, entry.actor_name, entry.source_id, entry.source_label) == (
        None,
        "nobody@example.com",
        None,
        "nobody@example.com",
    )
    assert "no user" in entry.change_description
    assert long_entry.actor_name == long_email[:100]  # cut short: a name, not a dump of the request
    await _assert_no_secret(stores, world)


async def test_a_password_typed_as_the_email_is_not_recorded(
    http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: no entry holds a password; people do type theirs into the email field."""
    assert (await sign_in(http, "hunter2 is my password", WRONG_PASSWORD)).status_code == 401
    entry = await _only(stores, world, "sign_in_failed")
    assert entry.actor_name == "(not an email address)"
    await _assert_no_secret(stores, world, "hunter2 is my password")


async def test_a_sign_out_is_recorded_once(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: "sign-out"; signing out without a session records nothing."""
    await sign_in(http, "user@example.com")
    cookie = http.cookies.get("tessera_session")
    assert (await http.get("/access/logout")).status_code == 200
    entry = await _only(stores, world, "sign_out")
    _assert_by_user(entry, world)
    assert (entry.source_type, entry.source_id) == ("user", world.user.id)
    assert (await http.get("/access/logout")).status_code == 200
    assert len(await _entries(stores, world, "sign_out")) == 1
    await _assert_no_secret(stores, world, cookie)


async def test_password_grant_sign_ins_are_recorded(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: a password checked by the password grant is a sign-in too, right or wrong."""
    data = {"grant_type": "password", "username": "user@example.com", "scope": "read"}
    wrong = await http.post("/oauth/tokens", auth=world.legacy.basic(), data={**data, "password": WRONG_PASSWORD})
    assert wrong.json()["error"] == "invalid_grant"
    right = await http.post("/oauth/tokens", auth=world.legacy.basic(), data={**data, "password": PASSWORD})
    assert right.status_code == 200, right.text
    success = await _only(stores, world, "sign_in")
    failure = await _only(stores, world, "sign_in_failed")
    _assert_by_user(success, world)
    assert "password grant of Legacy" in success.change_description
    assert (failure.actor_id, failure.ip_address) == (None, ADDRESS)
    await _assert_no_secret(stores, world, right.json()["access_token"])


# --- consent --------------------------------------------------------------------------------------


async def test_consent_is_recorded_with_its_scopes(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: "app authorized (consent)"; the label is the client's name."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    entry = await _only(stores, world, "authorize")
    _assert_by_user(entry, world)
    assert (entry.source_type, entry.source_id, entry.source_label) == ("oauth_consent", world.web.client.id, "Web App")
    assert "read" in entry.change_description.split()
    await _assert_no_secret(stores, world, code, tokens["access_token"], tokens["refresh_token"])


async def test_a_denied_request_records_no_consent(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: only consent given is recorded."""
    await sign_in(http, "user@example.com")
    page = await http.get(authorize_url(world.web))
    assert page.status_code == 200
    assert (await consent(http, page, "deny")).status_code == 303
    assert await _entries(stores, world, "authorize") == []


async def test_withdrawing_consent_is_recorded(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: "consent revoked", from the user's authorized-apps page."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    # The list's Revoke leads to a page that asks to confirm; its form revokes.
    page = await http.get("/access/apps/revoke", params={"client_id": str(world.web.client.id)})
    form = next(f for f in forms(page.text) if f.fields.get("client_id") == str(world.web.client.id))
    assert (await http.post(form.action, data=form.fields)).status_code == 303
    entry = await _only(stores, world, "revoke")
    _assert_by_user(entry, world)
    assert (entry.source_type, entry.source_id, entry.source_label) == ("oauth_consent", world.web.client.id, "Web App")
    assert (await http.post(form.action, data=form.fields)).status_code == 303  # nothing left to withdraw
    assert len(await _entries(stores, world, "revoke")) == 1
    await _assert_no_secret(stores, world, code, tokens["access_token"], tokens["refresh_token"])


# --- revocation, replay and reuse -----------------------------------------------------------------


async def test_revoking_a_token_is_recorded_once(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6: "token revoked" at the RFC 7009 endpoint, acting as the token's user, only when
    something was revoked (an unknown or already revoked token records nothing)."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    access = tokens["access_token"]
    for _ in range(2):
        response = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": access})
        assert response.status_code == 200
    unknown = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": "tsa_" + "A" * 52})
    assert unknown.status_code == 200
    entry = await _only(stores, world, "revoke")
    _assert_by_user(entry, world)
    assert (entry.source_type, entry.source_label) == ("oauth_token", "Web App")
    assert entry.source_id is not None and f"id {entry.source_id}" in entry.change_description
    await _assert_no_secret(stores, world, code, access, tokens["refresh_token"])


async def test_revoking_a_refresh_token_is_recorded(http: httpx.AsyncClient, stores: Stores, world: World) -> None:
    """Section 6 and RFC 7009 section 2.1: a refresh token's revocation revokes its family."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    response = await http.post("/oauth/revoke", auth=world.web.basic(), data={"token": tokens["refresh_token"]})
    assert response.status_code == 200
    entry = await _only(stores, world, "revoke")
    _assert_by_user(entry, world)
    assert entry.source_type == "oauth_token"
    assert "refresh token" in entry.change_description
    await _assert_no_secret(stores, world, code, tokens["access_token"], tokens["refresh_token"])


async def test_a_code_replay_is_recorded_with_its_revocation(
    http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """Section 6: "code replay ... detected (with the family revoked)"; RFC 6749 section 4.1.2."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    replay = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": world.web.redirect_uri},
    )
    assert replay.json()["error"] == "invalid_grant"
    entry = await _only(stores, world, "code_replay")
    assert (entry.actor_id, entry.actor_name, entry.ip_address) == (None, "Tessera", ADDRESS)
    assert (entry.source_type, entry.source_label) == ("oauth_token", "Web App")
    assert "user@example.com" in entry.change_description and "revoked" in entry.change_description
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401  # the entry was written with the revocation it records
    await _assert_no_secret(stores, world, code, tokens["access_token"], tokens["refresh_token"])


async def test_refresh_reuse_is_recorded_with_the_family_revoked(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """Section 6: "refresh-token reuse detected (with the family revoked)"; only after the grace window."""
    code, tokens = await code_and_tokens(http, world.web, "user@example.com")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    rotated = await http.post("/oauth/tokens", auth=world.web.basic(), data=refresh)
    assert rotated.status_code == 200
    inside = await http.post("/oauth/tokens", auth=world.web.basic(), data=refresh)
    assert inside.json()["error"] == "invalid_grant"
    assert await _entries(stores, world, "refresh_reuse") == []  # a client's own concurrent refresher
    clock.advance(11)
    reused = await http.post("/oauth/tokens", auth=world.web.basic(), data=refresh)
    assert "stolen" in reused.json()["error_description"]
    entry = await _only(stores, world, "refresh_reuse")
    assert (entry.actor_id, entry.actor_name, entry.ip_address) == (None, "Tessera", ADDRESS)
    assert (entry.source_type, entry.source_label) == ("oauth_token", "Web App")
    assert "user@example.com" in entry.change_description
    new = rotated.json()
    await _assert_no_secret(
        stores, world, code, tokens["access_token"], tokens["refresh_token"], new["access_token"], new["refresh_token"]
    )


# --- signing keys ---------------------------------------------------------------------------------


async def test_a_key_rotation_is_recorded_per_algorithm(app: Any, stores: Stores, world: World) -> None:
    """Section 6: "signing key rotated", by the system (what `tessera keys rotate` runs)."""
    kids = await app.state.services.keys.rotate(world.account.id)
    entries = await _entries(stores, world, "rotate_key")
    assert sorted(entry.source_label for entry in entries) == ["ES256 signing key", "RS256 signing key"]
    for entry in entries:
        assert (entry.actor_id, entry.actor_name, entry.source_type) == (None, "Tessera", "signing_key")
        assert any(kid in entry.change_description for kid in kids)
    await _assert_no_secret(stores, world)
