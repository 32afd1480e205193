"""The console's confirmation pages for suspending a user, revoking a token and revoking an
initial access token (INTERFACE.md section 6, "The console"): the button on the page is a
link to a page that names what is affected; that page (a GET) changes nothing; its form
posts to the action's own address, which does what it always did; another account's
record, or one that does not exist, is a 404 page.
"""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from tessera.management import accounts, registration_tokens, tokens, users
from tessera.management.audit_events import Actor
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, Form, World, forms, make_world, sign_in, unisolated

pytestmark = pytest.mark.anyio


async def _as_admin(http: httpx.AsyncClient, world: World) -> None:
    signed_in = await sign_in(http, world.admin.email, return_to="/admin")
    assert signed_in.status_code == 303, signed_in.text


def _links(html: str, pattern: str) -> list[str]:
    """The hrefs of the page's links that match `pattern` (a regular expression)."""
    return [
        unescape(href) for href in re.findall(r'<a [^>]*href="([^"]+)"', html) if re.fullmatch(pattern, unescape(href))
    ]


def _cancel(html: str) -> str:
    """Where the confirmation's Cancel link leads."""
    found = re.findall(r'<a class="button secondary" href="([^"]+)">Cancel</a>', html)
    assert len(found) == 1, found
    return unescape(found[0])


def _confirmation(html: str, action: str) -> Form:
    """The confirmation page's one form that posts, to `action`."""
    posts = [f for f in forms(html) if f.method == "post"]
    assert [f.action for f in posts] == [action], posts
    assert posts[0].fields.get("authenticity_token")
    return posts[0]


async def _actions(stores: Stores, world: World, source_type: str) -> list[str]:
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(source_type=source_type))
    return [log.entry.action for log in logs]


async def _works(http: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    """Whether the token in `headers` is still accepted by the account's API."""
    return (await http.get("/api/v2/users/me", headers=headers)).status_code == 200


# --- Suspending a user ---------------------------------------------------------------------------


async def test_suspending_a_user_goes_through_a_page_that_names_them_and_changes_nothing(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    _, _, token = await _token(stores, world, clock)
    await _as_admin(http, world)
    path = f"/admin/users/{world.user.id}"
    user_page = await http.get(path)
    assert _links(user_page.text, rf"{path}/suspend") == [f"{path}/suspend"]
    assert not [f for f in forms(user_page.text) if f.buttons.get("suspended") == "true"]  # no one-click suspension

    confirm = await http.get(f"{path}/suspend")
    assert confirm.status_code == 200
    said = unisolated(unescape(confirm.text))
    assert "Suspend Eve User?" in said and "Eve User (user@example.com) is suspended" in said
    assert "This is you" not in said  # only when an admin suspends themselves
    form = _confirmation(confirm.text, path)
    assert form.fields["suspended"] == "true"
    assert _cancel(confirm.text) == path
    # The page changed nothing.
    still = await stores.users.get_fresh(world.account.id, world.user.id)
    assert still is not None and not still.is_suspended
    assert await _works(http, token)
    assert "suspend" not in await _actions(stores, world, "user")

    done = await http.post(path, data=form.fields)
    assert done.status_code == 303 and done.headers["location"] == path
    after = await http.get(path)
    assert "was suspended: their sessions and tokens were ended." in unisolated(after.text)
    suspended = await stores.users.get_fresh(world.account.id, world.user.id)
    assert suspended is not None and suspended.is_suspended
    assert not await _works(http, token)
    assert (await _actions(stores, world, "user")).count("suspend") == 1
    # Unsuspending stays one click on the user's page; the suspension page sends the admin there.
    assert [f for f in forms(after.text) if f.buttons.get("suspended") == "false"]
    stale = await http.get(f"{path}/suspend")
    assert stale.status_code == 303 and stale.headers["location"] == path


async def test_the_suspension_page_names_the_clients_that_act_as_the_user(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """A client_credentials client acts as its owner (protocol/suspension.py): suspending the
    owner stops it too, and an admin suspending themselves is signed out. The page says both."""
    assert world.machine.client.user_id == world.admin.id
    # Another admin, so that this one is not the last (see the test below).
    await users.create(stores, world.account, "bo@example.com", PASSWORD, "admin", "Bo Admin", clock())
    await _as_admin(http, world)
    mine = unisolated((await http.get(f"/admin/users/{world.admin.id}/suspend")).text)
    assert "These clients get tokens that act as Ada Admin" in mine
    assert f'<a href="/admin/clients/{world.machine.client.id}">Machine</a>' in mine
    assert "This is you" in mine
    theirs = (await http.get(f"/admin/users/{world.user.id}/suspend")).text
    assert "These clients" not in theirs and "Machine" not in theirs
    admin = await stores.users.get_fresh(world.account.id, world.admin.id)
    assert admin is not None and not admin.is_suspended


async def test_the_last_active_admin_is_told_why_they_cannot_be_suspended_before_any_click(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """INTERFACE.md section 6: the last active admin can be neither demoted nor suspended.
    The page says so, and offers no form that would be refused."""
    await _as_admin(http, world)
    path = f"/admin/users/{world.admin.id}"
    page = await http.get(f"{path}/suspend")
    assert page.status_code == 200
    said = unisolated(unescape(page.text))
    assert "Ada Admin is this account's last active admin, who cannot be suspended" in said
    assert "Make another user an admin first." in said
    assert [f for f in forms(page.text) if f.method == "post"] == []
    assert f'<a class="button secondary" href="{path}">Back</a>' in page.text
    # An end user is suspended as before: only an active admin can be the last one.
    assert "last active admin" not in (await http.get(f"/admin/users/{world.user.id}/suspend")).text


async def test_the_suspension_page_of_another_accounts_user_is_not_found(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    await _as_admin(http, world)
    for user_id in (other.user.id, other.admin.id, 999_999_999):
        response = await http.get(f"/admin/users/{user_id}/suspend")
        assert response.status_code == 404, user_id
        assert "User not found" in response.text and "Eve User" not in response.text
    there = await stores.users.get_fresh(other.account.id, other.user.id)
    assert there is not None and not there.is_suspended


# --- Revoking a token -------------------------------------------------------------------------------


async def _token(stores: Stores, world: World, clock: Clock) -> tuple[int, str, dict[str, str]]:
    """A live token of the world's end user for its web app: its id, first characters, header."""
    created = await tokens.create(
        stores, world.account, world.web.client, world.user, "read", clock(), keys=None, issuer=world.origin
    )
    return created.token.id, created.token.token_prefix, {"Authorization": f"Bearer {created.full_token}"}


async def test_revoking_a_token_goes_through_a_page_that_names_it_and_changes_nothing(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    token_id, prefix, token = await _token(stores, world, clock)
    _, _, other = await _token(stores, world, clock)  # another authorization of the same user and app
    await _as_admin(http, world)
    listing = await http.get("/admin/tokens", params={"user_id": world.user.id})
    link = f"/admin/tokens/{token_id}/revoke?user_id={world.user.id}"  # the list's filter goes along
    assert link in _links(listing.text, r"/admin/tokens/\d+/revoke\?user_id=\d+")
    assert not [f for f in forms(listing.text) if f.method == "post"]  # no one-click revocation

    confirm = await http.get(link)
    assert confirm.status_code == 200
    said = unisolated(unescape(confirm.text))
    assert "Revoke the token of Web App for Eve User?" in said and f"{prefix}…" in said
    assert "every token of the same authorization" in said
    action = f"/admin/tokens/{token_id}/revoke"
    form = _confirmation(confirm.text, action)
    assert form.fields["user_id"] == str(world.user.id)  # back to the same list afterwards
    back = f"/admin/tokens?user_id={world.user.id}"
    assert _cancel(confirm.text) == back
    assert await _works(http, token) and await _works(http, other)
    assert await _actions(stores, world, "oauth_token") == []

    done = await http.post(action, data=form.fields)
    assert done.status_code == 303 and done.headers["location"] == back
    assert "The token was revoked" in (await http.get(back)).text
    assert not await _works(http, token)
    assert await _works(http, other)  # the other authorization's token is untouched
    assert await _actions(stores, world, "oauth_token") == ["revoke"]
    gone = await http.get(link)
    assert gone.status_code == 404 and "Token not found" in gone.text


async def test_the_revocation_page_of_another_accounts_token_is_not_found(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    theirs, _, header = await _token(stores, other, clock)
    await _as_admin(http, world)
    for token_id in (theirs, 999_999_999):
        response = await http.get(f"/admin/tokens/{token_id}/revoke")
        assert response.status_code == 404, token_id
        assert "Token not found" in response.text
    # Its POST, with this console's form token, revokes nothing either (as before).
    csrf = next(f.fields["authenticity_token"] for f in forms((await http.get("/admin/users/new")).text))
    refused = await http.post(f"/admin/tokens/{theirs}/revoke", data={"authenticity_token": csrf})
    assert refused.status_code == 303
    assert "already revoked or has expired" in (await http.get(refused.headers["location"])).text
    there = await http.get(f"{other.origin}/api/v2/users/me", headers=header)
    assert there.status_code == 200


# --- Revoking an initial access token ---------------------------------------------------------------


async def test_revoking_an_initial_access_token_goes_through_a_page_that_names_it(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    actor = Actor(world.admin.id, world.admin.name, None)
    made = await registration_tokens.create(stores, world.account, actor, clock(), 3600)
    await _as_admin(http, world)
    page = await http.get("/admin/registration")
    path = f"/admin/registration/tokens/{made.token.id}/revoke"
    assert _links(page.text, r"/admin/registration/tokens/\d+/revoke") == [path]
    assert not [f for f in forms(page.text) if f.action.endswith("/revoke")]

    confirm = await http.get(path)
    assert confirm.status_code == 200
    said = unisolated(unescape(confirm.text))
    assert f"Revoke the initial access token {made.token.token_prefix}…?" in said
    assert "Ada Admin" in said and "It has not been used" in said
    form = _confirmation(confirm.text, path)
    assert _cancel(confirm.text) == "/admin/registration"
    assert [t.id for t in await registration_tokens.list_tokens(stores, world.account)] == [made.token.id]
    assert await _actions(stores, world, "registration_token") == ["create"]

    done = await http.post(path, data=form.fields)
    assert done.status_code == 303 and done.headers["location"] == "/admin/registration"
    assert "The initial access token was revoked." in (await http.get("/admin/registration")).text
    assert await registration_tokens.list_tokens(stores, world.account) == []
    assert await _actions(stores, world, "registration_token") == ["revoke", "create"]
    gone = await http.get(path)
    assert gone.status_code == 404 and "Token not found" in gone.text


async def test_the_page_of_a_used_or_expired_initial_access_token_says_what_revoking_leaves(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Revoking deletes the token whatever its state; only an unused live one still works,
    so the page says what the other two leave: the client it registered, or nothing."""
    actor = Actor(world.admin.id, "Ada", None)
    await accounts.set_registration_policy(stores, world.subdomain, "token")
    made = await registration_tokens.create(stores, world.account, actor, clock())
    body = {"client_name": "Console Agent", "redirect_uris": ["https://agent.example/cb"]}
    registered = await http.post("/oauth/register", json=body, headers={"Authorization": f"Bearer {made.full_token}"})
    assert registered.status_code == 201, registered.text
    expiring = await registration_tokens.create(stores, world.account, actor, clock(), 3600)
    await _as_admin(http, world)
    said = unisolated((await http.get(f"/admin/registration/tokens/{made.token.id}/revoke")).text)
    assert "Console Agent</a> registered itself with it" in said and "Console Agent stays registered" in said
    client = await stores.clients.find(world.account.id, registered.json()["client_id"])
    assert client is not None and f'<a href="/admin/clients/{client.id}">Console Agent</a>' in said
    assert "This cannot be undone" not in said
    clock.advance(3601)
    expired = (await http.get(f"/admin/registration/tokens/{expiring.token.id}/revoke")).text
    assert "It expired unused and no longer works." in expired and "It has not been used" not in expired


async def test_the_page_of_another_accounts_initial_access_token_is_not_found(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    theirs = await registration_tokens.create(stores, other.account, Actor(other.admin.id, "Ada", None), clock())
    await _as_admin(http, world)
    for token_id in (theirs.token.id, 999_999_999):
        response = await http.get(f"/admin/registration/tokens/{token_id}/revoke")
        assert response.status_code == 404, token_id
        assert "Token not found" in response.text
    assert [t.id for t in await registration_tokens.list_tokens(stores, other.account)] == [theirs.token.id]


# --- Every confirmation page --------------------------------------------------------------------------


async def test_the_confirmations_need_the_csrf_token_and_send_the_page_headers(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    token_id, _, _ = await _token(stores, world, clock)
    made = await registration_tokens.create(stores, world.account, Actor(world.admin.id, "Ada", None), clock())
    await _as_admin(http, world)
    pages = {
        f"/admin/users/{world.user.id}/suspend": f"/admin/users/{world.user.id}",
        f"/admin/tokens/{token_id}/revoke": f"/admin/tokens/{token_id}/revoke",
        f"/admin/registration/tokens/{made.token.id}/revoke": f"/admin/registration/tokens/{made.token.id}/revoke",
    }
    for page, action in pages.items():
        response = await http.get(page, headers={"Origin": "https://evil.example"})
        assert response.status_code == 200, page
        assert response.headers["x-frame-options"] == "DENY" and response.headers["cache-control"] == "no-store"
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], page
        fields = {k: v for k, v in _confirmation(response.text, action).fields.items() if k != "authenticity_token"}
        for bad in ({}, {"authenticity_token": "0" * 64}):
            refused = await http.post(action, data={**fields, **bad})
            assert refused.status_code == 403 and "This page has expired" in refused.text, page
    user = await stores.users.get_fresh(world.account.id, world.user.id)
    assert user is not None and not user.is_suspended
    assert len(await registration_tokens.list_tokens(stores, world.account)) == 1
    assert await stores.tokens.list_live(world.account.id, clock(), user_id=None, client_id=None, after_id=0, limit=10)
