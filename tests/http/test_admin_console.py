"""The admin console (INTERFACE.md section 6, "The console"; section 5 for its pages).

Who may enter (admins of this account only: signed out -> the login page and back; an end
user or agent -> a 403 page; an admin of another account -> the login page), the CSRF token
on every form, the redirect-URI errors with their line numbers, the secret shown exactly
once, and the page headers of section 5 without CORS.
"""

from __future__ import annotations

import json
import re
from html import unescape

import httpx
import pytest

from tessera.management import users
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, World, add_client, forms, make_world, obtain_code, sign_in, unisolated

pytestmark = pytest.mark.anyio

PAGES = ("/admin", "/admin/clients", "/admin/clients/new", "/admin/apps", "/admin/users", "/admin/users/new")
PAGES += ("/admin/tokens", "/admin/audit", "/admin/registration")


async def _as_admin(http: httpx.AsyncClient, world: World) -> None:
    signed_in = await sign_in(http, world.admin.email, return_to="/admin")
    assert signed_in.status_code == 303, signed_in.text


def _csrf(html: str) -> str:
    token = next(f.fields["authenticity_token"] for f in forms(html) if "authenticity_token" in f.fields)
    assert token
    return token


def _secret_in(html: str) -> str | None:
    found = re.search(r'id="client-secret"[^>]*value="([^"]+)"', html)
    return None if found is None else unescape(found.group(1))


def _client_form(token: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "authenticity_token": token,
        "name": "Reporting",
        "identifier": "reporting",
        "kind": "confidential",
        "redirect_uri": "https://reports.example.com/cb",
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "access_token_format": "opaque",
    }
    data.update(fields)
    return data


async def _create_client(http: httpx.AsyncClient, **fields: str | list[str]) -> httpx.Response:
    token = _csrf((await http.get("/admin/clients/new")).text)
    return await http.post("/admin/clients", data=_client_form(token, **fields))


# --- Who may enter ------------------------------------------------------------------------------


async def test_signed_out_gets_the_login_page_then_comes_back(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get("/admin")
    assert response.status_code == 302
    assert response.headers["location"] == "/access/login?return_to=%2Fadmin"
    deep = await http.get("/admin/audit?action=create")
    assert deep.headers["location"] == "/access/login?return_to=%2Fadmin%2Faudit%3Faction%3Dcreate"
    signed_in = await sign_in(http, world.admin.email, return_to="/admin")
    assert signed_in.headers["location"] == "/admin"
    page = await http.get("/admin")
    assert page.status_code == 200
    assert "OAuth clients" in page.text and world.account.name in page.text and world.admin.name in page.text


async def test_the_home_page_leads_admins_to_the_console(http: httpx.AsyncClient, world: World) -> None:
    """An admin who signs in on the account's own host finds the console from its home
    page; other users see no such link."""
    await sign_in(http, world.user.email)
    page = await http.get("/")
    assert page.status_code == 200 and 'href="/admin"' not in page.text
    assert f"<title>Home · {world.account.name}</title>" in page.text
    await sign_in(http, world.admin.email)
    assert 'href="/admin"' in (await http.get("/")).text


@pytest.mark.parametrize("role", ["end-user", "agent"])
async def test_a_user_who_is_not_an_admin_gets_a_403_page(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock, role: str
) -> None:
    email = f"{role}@example.com".replace("end-user", "someone")
    await users.create(stores, world.account, email, PASSWORD, role, "Not Admin", clock())
    await sign_in(http, email)
    for path in ("/admin", "/admin/clients/new", "/admin/users", f"/admin/clients/{world.web.client.id}"):
        response = await http.get(path)
        assert response.status_code == 403, path
        assert "Admins only" in response.text
        assert "ask one of its admins" in response.text  # says what to do
        assert response.headers["x-frame-options"] == "DENY"
    refused = await http.post("/admin/clients", data={"name": "x"})
    assert refused.status_code == 403


async def test_an_admin_of_another_account_is_refused(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """INTERFACE.md section 2: sessions are per account host; another account's admin
    session gives nothing here."""
    other = await make_world(stores, clock)
    login_page = await http.get(f"{other.origin}/access/login")
    form = forms(login_page.text)[-1]
    done = await http.post(
        f"{other.origin}/access/login", data=dict(form.fields, email=other.admin.email, password=PASSWORD)
    )
    assert done.status_code == 303
    session = done.cookies["tessera_session"]
    assert (await http.get(f"{other.origin}/admin")).status_code == 200  # an admin there
    response = await http.get("/admin", headers={"Cookie": f"tessera_session={session}"})
    assert response.status_code == 302
    assert response.headers["location"].startswith("/access/login?")


# --- Page rules ----------------------------------------------------------------------------------


async def test_every_page_sends_the_section_5_headers_and_no_cors(http: httpx.AsyncClient, world: World) -> None:
    await _as_admin(http, world)
    user = f"/admin/users/{world.user.id}"
    for path in (*PAGES, f"/admin/clients/{world.web.client.id}", user, f"{user}/suspend"):
        response = await http.get(path, headers={"Origin": "https://evil.example"})
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], path
        for form in forms(response.text):
            if form.method == "post":
                assert form.fields.get("authenticity_token"), (path, form.action)


async def test_every_form_refuses_a_post_without_its_csrf_token(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """INTERFACE.md section 6: CSRF tokens on every form; a POST without one changes nothing."""
    await _as_admin(http, world)
    token = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    listing = await http.get("/admin/tokens")
    revoke_link = re.search(r'href="(/admin/tokens/\d+/revoke)"', listing.text)
    assert revoke_link is not None
    revoke_action = revoke_link.group(1)  # its confirmation page's form posts to the same address
    client = world.web.client.id
    posts = {
        "/admin/clients": _client_form(""),
        f"/admin/clients/{client}": _client_form("", name="Renamed"),
        f"/admin/clients/{client}/delete": {},
        f"/admin/clients/{client}/secret": {"previous_secret_expires_in": "0"},
        "/admin/users": {"email": "new@example.com", "role": "admin"},
        f"/admin/users/{world.user.id}": {"suspended": "true"},
        revoke_action: {},
    }
    for path, data in posts.items():
        for bad in ({}, {"authenticity_token": "0" * 64}):
            response = await http.post(
                path, data={**{k: v for k, v in data.items() if k != "authenticity_token"}, **bad}
            )
            assert response.status_code == 403, path
            assert "This page has expired" in response.text
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200  # not revoked
    still = await stores.clients.find(world.account.id, world.web.client_id)
    assert still is not None and still.name == "Web App" and still.secret_hash == world.web.client.secret_hash
    assert (await stores.users.get(world.account.id, world.user.id)).suspended_at is None  # type: ignore[union-attr]
    assert await stores.users.find_by_email(world.account.id, "new@example.com") is None


# --- Clients --------------------------------------------------------------------------------------


async def test_a_bad_redirect_uri_line_is_shown_beside_the_field_with_its_number(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    await _as_admin(http, world)
    lines = "https://one.example.com/cb\r\nhttps://two.example.com/cb\r\nhttp://three.example.com/cb"
    response = await _create_client(http, redirect_uri=lines)
    assert response.status_code == 422
    errors = re.search(r'<ul class="field-errors" id="redirect_uri-error">(.*?)</ul>', response.text, re.S)
    assert errors is not None, response.text
    assert "line 3" in errors.group(1) and "http://three.example.com/cb" in unescape(errors.group(1))
    assert 'aria-describedby="redirect_uri-hint redirect_uri-error"' in response.text
    # What was typed is kept, so the admin fixes one line rather than typing all again.
    assert "https://two.example.com/cb" in response.text
    assert await stores.clients.find(world.account.id, "reporting") is None


_PUBLIC_EC = {
    # RFC 7515 appendix A.3's P-256 key, its public members only.
    "kty": "EC",
    "crv": "P-256",
    "kid": "a3",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}


async def test_a_private_key_in_the_key_set_is_shown_beside_the_field(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """RFC 7523 / INTERFACE.md section 10: only public keys are registered; the problem is
    shown beside the key set field and nothing is stored."""
    await _as_admin(http, world)
    private = {**_PUBLIC_EC, "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
    response = await _create_client(http, jwks=json.dumps({"keys": [private]}))
    assert response.status_code == 422
    errors = re.search(r'<ul class="field-errors" id="jwks-error">(.*?)</ul>', response.text, re.S)
    assert errors is not None, response.text
    assert "private key members (d)" in unescape(errors.group(1))
    assert await stores.clients.find(world.account.id, "reporting") is None


async def test_a_client_with_a_key_set_has_no_secret(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    """private_key_jwt: a client created with a public key set gets no secret; its page says
    how it authenticates and its form shows the set."""
    await _as_admin(http, world)
    created = await _create_client(http, jwks=json.dumps({"keys": [_PUBLIC_EC]}))
    assert created.status_code == 303, created.text
    page = await http.get(created.headers["location"])
    assert _secret_in(page.text) is None
    assert "private_key_jwt" in page.text and "Regenerate secret" not in page.text
    assert "public client" not in page.text
    assert "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU" in page.text
    stored = await stores.clients.find(world.account.id, "reporting")
    assert stored is not None and stored.secret_hash is None and stored.jwks is not None


async def test_the_secret_is_shown_once_after_creation(http: httpx.AsyncClient, world: World) -> None:
    await _as_admin(http, world)
    created = await _create_client(http)
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/admin/clients/\d+", location)  # never the secret in a URL
    page = await http.get(location)
    secret = _secret_in(page.text)
    assert secret is not None and secret.startswith("tss_")
    assert "was created" in page.text
    nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce is not None and f'<script nonce="{nonce.group(1)}" src="/assets/admin.js">' in page.text
    works = await http.post(
        "/oauth/tokens", auth=("reporting", secret), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert works.status_code == 200, works.text
    again = await http.get(location)
    assert again.status_code == 200
    assert _secret_in(again.text) is None and secret not in again.text
    assert secret[:9] in again.text  # only its first characters from now on
    assert "script-src" not in again.headers["content-security-policy"]


async def test_regenerating_keeps_the_old_secret_a_day_unless_told_otherwise(
    http: httpx.AsyncClient, world: World
) -> None:
    """One click on Regenerate must not cut a working integration off: the form's default
    keeps the old secret working for a day; stopping it now is a choice."""
    await _as_admin(http, world)
    page = await http.get(f"/admin/clients/{world.machine.client.id}")
    chosen = re.findall(r'<option value="(\d+)" selected>', page.text)
    assert chosen == ["86400"], chosen


async def test_regenerating_shows_the_new_secret_once_and_the_old_one_stops(
    http: httpx.AsyncClient, world: World
) -> None:
    await _as_admin(http, world)
    path = f"/admin/clients/{world.machine.client.id}"
    token = _csrf((await http.get(path)).text)
    done = await http.post(f"{path}/secret", data={"authenticity_token": token, "previous_secret_expires_in": "0"})
    assert done.status_code == 303 and done.headers["location"] == path
    secret = _secret_in((await http.get(path)).text)
    assert secret is not None and secret != world.machine.secret
    assert _secret_in((await http.get(path)).text) is None
    old = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert old.status_code == 401
    new = await http.post(
        "/oauth/tokens",
        auth=(world.machine.client_id, secret),
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    assert new.status_code == 200


async def test_edit_and_delete_after_confirmation(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await _as_admin(http, world)
    path = f"/admin/clients/{world.web.client.id}"
    page = await http.get(path)
    assert "https://app.example.com/callback\nhttp://127.0.0.1/callback" in page.text
    saved = await http.post(
        path,
        data=_client_form(
            _csrf(page.text), name="Web App 2", identifier=world.web.client_id, redirect_uri="https://x.example.com/cb"
        ),
    )
    assert saved.status_code == 303, saved.text
    assert "Web App 2 was saved." in (await http.get(path)).text
    changed = await stores.clients.find(world.account.id, world.web.client_id)
    assert changed is not None and changed.redirect_uris == ("https://x.example.com/cb",)
    confirm = await http.get(f"{path}/delete")
    assert confirm.status_code == 200 and "This cannot be undone" in confirm.text
    gone = await http.post(f"{path}/delete", data={"authenticity_token": _csrf(confirm.text)})
    assert gone.status_code == 303 and gone.headers["location"] == "/admin/clients"
    assert "Web App 2 was deleted" in (await http.get("/admin/clients")).text
    assert (await http.get(path)).status_code == 404


# --- Apps, users, tokens, audit ------------------------------------------------------------------


async def test_an_external_app_is_listed_and_revoked(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    app = await add_client(stores, None, clock(), name="Global Reports", redirect_uris=("https://g.example.com/cb",))
    await obtain_code(http, app, world.user.email)
    await _as_admin(http, world)
    listing = await http.get("/admin/apps")
    assert "Global Reports" in listing.text
    confirm = await http.get(f"/admin/apps/{app.client.id}/revoke")
    assert confirm.status_code == 200
    done = await http.post(f"/admin/apps/{app.client.id}/revoke", data={"authenticity_token": _csrf(confirm.text)})
    assert done.status_code == 303
    after = await http.get("/admin/apps")
    assert "no longer has access" in after.text and "No external apps" in after.text


async def test_users_are_created_promoted_and_suspended(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await _as_admin(http, world)
    token = _csrf((await http.get("/admin/users/new")).text)
    bad = await http.post("/admin/users", data={"authenticity_token": token, "email": "not-an-email", "role": "agent"})
    assert bad.status_code == 422 and "not-an-email" in unescape(bad.text)
    made = await http.post(
        "/admin/users",
        data={"authenticity_token": token, "email": "carol@example.com", "name": "Carol", "role": "agent"},
    )
    assert made.status_code == 303
    carol = await stores.users.find_by_email(world.account.id, "carol@example.com")
    assert carol is not None and carol.role == "agent"
    path = f"/admin/users/{carol.id}"
    assert "Carol was added" in (await http.get(path)).text
    await http.post(path, data={"authenticity_token": token, "name": "Carol C", "role": "admin"})
    await http.post(path, data={"authenticity_token": token, "suspended": "true"})
    carol = await stores.users.get(world.account.id, carol.id)
    assert carol is not None and carol.role == "admin" and carol.name == "Carol C" and carol.is_suspended
    last_admin = await http.post(
        f"/admin/users/{world.admin.id}", data={"authenticity_token": token, "suspended": "true"}
    )
    assert last_admin.status_code == 422  # the last active admin cannot be suspended


async def test_a_client_form_with_every_grant_type_unticked_is_refused_beside_the_field(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """A form's boxes all cleared are not "the defaults" (as no --grant-type is for the CLI):
    the form comes back saying so beside the grant types, and nothing is saved."""
    await _as_admin(http, world)
    refused = await _create_client(http, grant_types=[])
    assert refused.status_code == 422
    assert 'id="grant_types-error"' in refused.text and "choose at least one grant type" in refused.text
    assert await stores.clients.find(world.account.id, "reporting") is None
    path = f"/admin/clients/{world.web.client.id}"
    token = _csrf((await http.get(path)).text)
    kept = await http.post(path, data=_client_form(token, name="Web", identifier=world.web.client_id, grant_types=[]))
    assert kept.status_code == 422 and "choose at least one grant type" in kept.text
    web = await stores.clients.find(world.account.id, world.web.client_id)
    assert web is not None and web.grant_types == world.web.client.grant_types


async def test_an_emptied_lifetime_on_the_edit_form_is_the_default_its_hint_names(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """The edit form shows the stored lifetimes; emptying one means the default, as the hint
    says ("Empty: 1800"), not "keep what was there"."""
    await _as_admin(http, world)
    made = await _create_client(http, access_token_lifetime="3600", refresh_token_lifetime="604800")
    assert made.status_code == 303, made.text
    client = await stores.clients.find(world.account.id, "reporting")
    assert client is not None and client.access_token_lifetime == 3600
    path = f"/admin/clients/{client.id}"
    token = _csrf((await http.get(path)).text)
    saved = await http.post(path, data=_client_form(token, access_token_lifetime="", refresh_token_lifetime=""))
    assert saved.status_code == 303, saved.text
    shown = forms((await http.get(path)).text)
    fields = next(f.fields for f in shown if "access_token_lifetime" in f.fields)
    assert (fields["access_token_lifetime"], fields["refresh_token_lifetime"]) == ("1800", "2592000")


async def test_an_admin_sets_a_users_password(http: httpx.AsyncClient, world: World) -> None:
    """For an account that sends no reset e-mail, the sign-in page sends users to an admin
    (docs/password-reset.md): the user's page sets a new password, 8 characters at least
    (the rule for a password an admin sets); the user then signs in with it."""
    await _as_admin(http, world)
    path = f"/admin/users/{world.user.id}"
    page = await http.get(path)
    form = next(f for f in forms(page.text) if "set_password" in f.buttons)
    short = await http.post(path, data={**form.fields, "set_password": "1", "password": "passwor"})
    assert short.status_code == 422 and "Nothing was changed." in short.text
    assert "at least 8 characters" in short.text
    new = "violet tractor under moonlight"
    done = await http.post(path, data={**form.fields, "set_password": "1", "password": new})
    assert done.status_code == 303
    assert "A new password was set for" in unisolated((await http.get(path)).text)
    assert (await sign_in(http, world.user.email, new)).status_code == 303


async def test_tokens_are_filtered_and_revoked(http: httpx.AsyncClient, world: World) -> None:
    issued = await http.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    access_token = issued.json()["access_token"]
    await _as_admin(http, world)
    listing = await http.get("/admin/tokens", params={"client_id": world.machine.client.id})
    assert access_token[:10] in listing.text and access_token not in listing.text
    empty = await http.get("/admin/tokens", params={"client_id": world.spa.client.id})
    assert "No tokens match" in empty.text
    link = re.search(r'href="(/admin/tokens/\d+/revoke\?client_id=\d+)"', listing.text)
    assert link is not None
    confirm = await http.get(unescape(link.group(1)))
    form = next(f for f in forms(confirm.text) if f.action.endswith("/revoke"))
    done = await http.post(form.action, data=form.fields)
    assert done.status_code == 303 and done.headers["location"] == f"/admin/tokens?client_id={world.machine.client.id}"
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 401


async def test_the_audit_log_is_filtered_by_action(http: httpx.AsyncClient, world: World) -> None:
    await _as_admin(http, world)
    await _create_client(http)
    everything = await http.get("/admin/audit")
    assert "Reporting" in everything.text
    creates = await http.get("/admin/audit", params={"action": "create", "actor_id": world.admin.id})
    assert "Reporting" in creates.text
    none = await http.get("/admin/audit", params={"action": "suspend"})
    assert "No entries match" in none.text
    future = await http.get("/admin/audit", params={"from": "2999-01-01"})
    assert "No entries match" in future.text


async def test_numbers_in_console_addresses_are_ascii_digits_or_ignored(http: httpx.AsyncClient, world: World) -> None:
    """A superscript or circled digit (str.isdigit() accepts them, int() does not) in a
    filter or a record's path is no number: the filter is ignored, the record not found;
    never a 500."""
    await _as_admin(http, world)
    listing = await http.get("/admin/tokens", params={"client_id": "\u00b9", "after": "\u2460"})
    assert listing.status_code == 200, listing.text
    missing = await http.get("/admin/clients/\u00b9")
    assert missing.status_code == 404, missing.text
