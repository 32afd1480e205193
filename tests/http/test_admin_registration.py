"""The console's Registration page (INTERFACE.md section 8, dynamic registration; section 6,
the console): the policy chosen there, initial access tokens (RFC 7591 section 3) shown
exactly once and revocable, self-registered clients marked in the client list and detail,
CSRF on every form, and the audit entries each change writes.
"""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import World, forms, sign_in

pytestmark = pytest.mark.anyio

PAGE = "/admin/registration"


async def as_admin(http: httpx.AsyncClient, world: World) -> str:
    signed_in = await sign_in(http, world.admin.email, return_to="/admin")
    assert signed_in.status_code == 303, signed_in.text
    page = await http.get(PAGE)
    assert page.status_code == 200, page.text
    return next(f.fields["authenticity_token"] for f in forms(page.text) if "authenticity_token" in f.fields)


def shown_token(html: str) -> str | None:
    found = re.search(r'id="client-secret"[^>]*value="([^"]+)"', html)
    return None if found is None else unescape(found.group(1))


async def test_the_policy_is_chosen_on_the_page_and_audited(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    csrf = await as_admin(http, world)
    page = await http.get(PAGE)
    assert 'name="policy" value="off" checked' in page.text
    saved = await http.post(f"{PAGE}/policy", data={"authenticity_token": csrf, "policy": "open"})
    assert saved.status_code == 303 and saved.headers["location"] == PAGE
    after = await http.get(PAGE)
    assert "now open to anyone" in after.text and 'name="policy" value="open" checked' in after.text
    assert (await stores.accounts.by_id(world.account.id)).registration_policy == "open"  # type: ignore[union-attr]
    discovery = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert discovery["registration_endpoint"] == world.origin + "/oauth/register"
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(source_type="account"))
    assert [(log.entry.action, log.entry.actor_id) for log in logs] == [("update", world.admin.id)]
    assert "from off to open" in logs[0].entry.change_description
    refused = await http.post(f"{PAGE}/policy", data={"authenticity_token": csrf, "policy": "everyone"})
    assert refused.status_code == 400


async def test_an_initial_access_token_is_shown_once_works_once_and_can_be_revoked(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    csrf = await as_admin(http, world)
    await http.post(f"{PAGE}/policy", data={"authenticity_token": csrf, "policy": "token"})
    made = await http.post(f"{PAGE}/tokens", data={"authenticity_token": csrf, "expires_in": "86400"})
    assert made.status_code == 303 and made.headers["location"] == PAGE  # never the token in a URL
    page = await http.get(PAGE)
    token = shown_token(page.text)
    assert token is not None and token.startswith("tsi_")
    again = await http.get(PAGE)
    assert shown_token(again.text) is None and token not in again.text
    assert token[:10] in again.text and "Unused" in again.text
    body = {"client_name": "Console Agent", "redirect_uris": ["https://agent.example/cb"]}
    registered = await http.post("/oauth/register", json=body, headers={"Authorization": f"Bearer {token}"})
    assert registered.status_code == 201, registered.text
    listing = await http.get(PAGE)
    assert "Used " in listing.text and "Console Agent" in listing.text
    # A second token, revoked before use, no longer works.
    await http.post(f"{PAGE}/tokens", data={"authenticity_token": csrf, "expires_in": "3600"})
    second = shown_token((await http.get(PAGE)).text)
    assert second is not None
    link = re.search(r'href="(/admin/registration/tokens/\d+/revoke)"', (await http.get(PAGE)).text)
    assert link is not None
    confirm = await http.get(link.group(1))  # asks first; its form posts to the same address
    assert second[:10] in confirm.text
    form = next(f for f in forms(confirm.text) if f.action == link.group(1))
    assert (await http.post(form.action, data=form.fields)).status_code == 303
    refused = await http.post("/oauth/register", json=body, headers={"Authorization": f"Bearer {second}"})
    assert refused.status_code == 401
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(source_type="registration_token"))
    assert [log.entry.action for log in logs] == ["revoke", "create", "create"]
    assert all("tsi_" not in log.entry.change_description for log in logs)


async def test_a_lifetime_not_offered_is_refused(http: httpx.AsyncClient, world: World) -> None:
    csrf = await as_admin(http, world)
    response = await http.post(f"{PAGE}/tokens", data={"authenticity_token": csrf, "expires_in": "5"})
    assert response.status_code == 400


async def test_every_form_needs_its_csrf_token(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await as_admin(http, world)
    for path, data in ((f"{PAGE}/policy", {"policy": "open"}), (f"{PAGE}/tokens", {"expires_in": "3600"})):
        response = await http.post(path, data=data)
        assert response.status_code == 403 and "This page has expired" in response.text
    assert (await stores.accounts.by_id(world.account.id)).registration_policy == "off"  # type: ignore[union-attr]
    assert await stores.registrations.list_initial(world.account.id) == []


async def test_self_registered_clients_are_marked_in_the_list_and_the_detail(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    csrf = await as_admin(http, world)
    await http.post(f"{PAGE}/policy", data={"authenticity_token": csrf, "policy": "open"})
    body = {"client_name": "Agent Smith", "redirect_uris": ["https://agent.example/cb"]}
    client_id = (await http.post("/oauth/register", json=body)).json()["client_id"]
    client = await stores.clients.find(world.account.id, client_id)
    assert client is not None
    listing = (await http.get("/admin/clients")).text
    row = re.search(r"<tr>\s*<td[^>]*><a[^>]*>Agent Smith</a>(.*?)</tr>", listing, re.S)
    assert row is not None and "Registered itself" in row.group(1)
    web_row = re.search(r"<tr>\s*<td[^>]*><a[^>]*>Web App</a>(.*?)</tr>", listing, re.S)
    assert web_row is not None and "Registered itself" not in web_row.group(1)
    detail = (await http.get(f"/admin/clients/{client.id}")).text
    assert "Registered itself" in detail and "not verified" in detail
    assert "Agent Smith" in (await http.get(PAGE)).text
