"""The OAuth Clients API (INTERFACE.md section 6, "Clients"): /api/v2/oauth/clients(.json),
/{id}(.json), PUT /{id}/generate_secret(.json). Admins only, clients:read / clients:write
(or read / write); 403 Forbidden, 404 RecordNotFound, 400 invalid_request, 422
RecordInvalid naming every bad field; never a 500, whatever the body.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.protocol import secrets
from tessera.storage.stores import Stores
from tests.http.admin_support import (
    agent,
    assert_bad_request,
    assert_forbidden,
    assert_invalid,
    assert_never_a_server_error,
    assert_not_found,
    audit_text,
    bearer,
)
from tests.support import Clock, World, make_world, sign_in

pytestmark = pytest.mark.anyio

CLIENTS = "/api/v2/oauth/clients"
NEW = {"client": {"name": "New App", "identifier": "new_app", "redirect_uri": ["https://new.example.com/cb"]}}


@pytest.fixture
async def admin(stores: Stores, world: World, clock: Clock) -> dict[str, str]:
    return await bearer(stores, world, world.admin, "read write", clock)


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_an_admin_lists_the_accounts_own_clients(
    http: httpx.AsyncClient, world: World, admin: dict[str, str], suffix: str
) -> None:
    response = await http.get(CLIENTS + suffix, headers=admin)
    assert response.status_code == 200, response.text
    listed = response.json()["clients"]
    assert [c["identifier"] for c in listed] == [
        world.web.client_id,
        world.spa.client_id,
        world.machine.client_id,
        world.legacy.client_id,
    ]
    assert all(c["secret"] is None or len(c["secret"]) == 9 for c in listed)
    assert response.json()["meta"]["has_more"] is False


async def test_listing_pages_with_a_cursor(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> None:
    seen: list[int] = []
    url: str | None = f"{world.origin}{CLIENTS}.json?page[size]=3"
    while url is not None:
        page = (await http.get(url, headers=admin)).json()
        seen += [c["id"] for c in page["clients"]]
        url = page["links"]["next"]
    assert seen == sorted(seen) and len(seen) == 4
    assert_bad_request(await http.get(CLIENTS, params={"page[size]": "101"}, headers=admin))


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_create_answers_201_with_location_and_the_full_secret_once(
    http: httpx.AsyncClient, stores: Stores, world: World, admin: dict[str, str], suffix: str
) -> None:
    response = await http.post(CLIENTS + suffix, json=NEW, headers=admin)
    assert response.status_code == 201, response.text
    client = response.json()["client"]
    assert response.headers["location"] == f"{world.origin}{CLIENTS}/{client['id']}.json"
    assert client["secret"].startswith("tss_") and len(client["secret"]) > 40
    assert client["user_id"] == world.admin.id and client["kind"] == "confidential"
    assert client["grant_types"] == ["authorization_code", "refresh_token"]
    shown = (await http.get(f"{CLIENTS}/{client['id']}{suffix}", headers=admin)).json()["client"]
    assert shown["secret"] == client["secret"][:9]
    text = await audit_text(stores, world)
    assert "created confidential client" in text
    assert client["secret"] not in text and client["secret"][:9] not in text


async def test_create_names_every_bad_field(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> None:
    body = {
        "client": {
            "name": "",
            "identifier": "no spaces allowed",
            "redirect_uri": ["https://ok.example.com/cb", "http://x.com/cb"],
            "access_token_lifetime": 60,
            "refresh_token_lifetime": 99_999_999,
            "allowed_scopes": ["read", "frobnicate"],
            "kind": "secretive",
        }
    }
    details = assert_invalid(
        await http.post(CLIENTS, json=body, headers=admin),
        "name",
        "identifier",
        "redirect_uri",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "allowed_scopes",
        "kind",
    )
    assert details["redirect_uri"][0]["description"].startswith("line 2: 'http://x.com/cb'")
    assert "300 to 172800" in details["access_token_lifetime"][0]["description"]


async def test_create_refuses_a_taken_identifier(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> None:
    body = {"client": {**NEW["client"], "identifier": world.web.client_id}}
    details = assert_invalid(await http.post(CLIENTS, json=body, headers=admin), "identifier")
    assert "already exists" in details["identifier"][0]["description"]


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"app": {"name": "x"}}',
        b'{"client": "x"}',
        b'{"client": {"name": 5}}',
        b'{"client": {"redirect_uri": [1]}}',
        b'{"client": {"introspection": "yes"}}',
        b'{"client": {"access_token_lifetime": 1.5}}',
        b'{"client": {"colour": "red"}}',
        b'{"client": {}, "extra": 1}',
    ],
)
async def test_a_body_not_of_the_documented_shape_is_400(
    http: httpx.AsyncClient, admin: dict[str, str], content: bytes
) -> None:
    assert_bad_request(await http.post(CLIENTS, content=content, headers=admin))


async def test_show_update_delete_unknown_or_foreign_ids_are_404(
    http: httpx.AsyncClient, stores: Stores, world: World, admin: dict[str, str], clock: Clock
) -> None:
    other = await make_world(stores, clock)
    for path in (f"{CLIENTS}/999999999", f"{CLIENTS}/abc", f"{CLIENTS}/{other.web.client.id}.json"):
        assert_not_found(await http.get(path, headers=admin))
        assert_not_found(await http.put(path, json={"client": {"name": "x"}}, headers=admin))
        assert_not_found(await http.delete(path, headers=admin))
        assert_not_found(await http.put(f"{path.removesuffix('.json')}/generate_secret", headers=admin))


async def test_update_is_partial_and_recorded(
    http: httpx.AsyncClient, stores: Stores, world: World, admin: dict[str, str]
) -> None:
    path = f"{CLIENTS}/{world.web.client.id}.json"
    before = (await http.get(path, headers=admin)).json()["client"]
    response = await http.put(path, json={"client": {"name": "Renamed", "logo_url": None}}, headers=admin)
    assert response.status_code == 200, response.text
    after = response.json()["client"]
    assert after["name"] == "Renamed"
    assert {k: v for k, v in after.items() if k not in ("name", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("name", "updated_at")
    }
    # What GET gave can be PUT back.
    assert (await http.put(path, json={"client": after}, headers=admin)).status_code == 200
    assert "changed name" in await audit_text(stores, world)


async def test_update_validates_like_create(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> None:
    path = f"{CLIENTS}/{world.web.client.id}"
    body = {"client": {"identifier": world.spa.client_id, "redirect_uri": ["", "https://a.example.com/#x"]}}
    details = assert_invalid(await http.put(path, json=body, headers=admin), "redirect_uri")
    assert details["redirect_uri"][0]["description"].startswith("line 2:")
    assert_invalid(
        await http.put(path, json={"client": {"identifier": world.spa.client_id}}, headers=admin), "identifier"
    )
    assert_invalid(await http.put(path, json={"client": {"redirect_uri": []}}, headers=admin), "redirect_uri")
    # The pages' Content-Security-Policy loads images over https only: an http logo would show broken.
    plain = {"client": {"logo_url": "http://cdn.example.com/logo.png"}}
    details = assert_invalid(await http.put(path, json=plain, headers=admin), "logo_url")
    assert "https" in details["logo_url"][0]["description"]
    named = {"client": {"name": "Acme\u202eevil"}}
    assert "U+202E" in assert_invalid(await http.put(path, json=named, headers=admin), "name")["name"][0]["description"]


async def test_delete_revokes_the_clients_tokens_at_once(
    http: httpx.AsyncClient, stores: Stores, world: World, admin: dict[str, str], clock: Clock
) -> None:
    from tessera.management import tokens

    issued = await tokens.create(
        stores,
        world.account,
        world.legacy.client,
        world.user,
        "read",
        clock(),
        keys=None,
        issuer=world.origin,  # type: ignore[arg-type]
    )
    users_token = {"Authorization": f"Bearer {issued.full_token}"}
    assert (await http.get("/api/v2/users/me", headers=users_token)).status_code == 200
    response = await http.delete(f"{CLIENTS}/{world.legacy.client.id}.json", headers=admin)
    assert response.status_code == 204, response.text
    assert (await http.get("/api/v2/users/me", headers=users_token)).status_code == 401
    assert_not_found(await http.get(f"{CLIENTS}/{world.legacy.client.id}", headers=admin))
    assert_not_found(await http.delete(f"{CLIENTS}/{world.legacy.client.id}", headers=admin))
    assert "deleted the client" in await audit_text(stores, world)


async def test_generate_secret_with_overlap_keeps_the_previous_secret_until_it_expires(
    http: httpx.AsyncClient, stores: Stores, world: World, admin: dict[str, str], clock: Clock
) -> None:
    path = f"{CLIENTS}/{world.machine.client.id}/generate_secret"
    response = await http.put(path + ".json", json={"previous_secret_expires_in": 3600}, headers=admin)
    assert response.status_code == 200, response.text
    secret = response.json()["client"]["secret"]
    assert secret.startswith("tss_") and secret != world.machine.secret
    stored = await stores.clients.get_own(world.account.id, world.machine.client.id)
    assert stored is not None and secrets.matches(secret, stored.secret_hash)
    assert world.machine.secret is not None and secrets.matches(world.machine.secret, stored.previous_secret_hash)
    assert stored.previous_secret_expires_at is not None
    assert 3590 <= stored.previous_secret_expires_at - clock() <= 3600
    again = await http.put(path, headers=admin)  # no body: the previous secret stops at once
    assert again.status_code == 200
    stored = await stores.clients.get_own(world.account.id, world.machine.client.id)
    assert stored is not None and stored.previous_secret_hash is None
    text = await audit_text(stores, world)
    assert "regenerate_secret" in text and secret not in text and secret[:9] not in text


async def test_generate_secret_refusals(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> None:
    path = f"{CLIENTS}/{world.web.client.id}/generate_secret"
    for overlap in (-1, 604_801, 10**30):
        assert_invalid(
            await http.put(path, json={"previous_secret_expires_in": overlap}, headers=admin),
            "previous_secret_expires_in",
        )
    for content in (b"[1]", b"null", b'{"expires": 5}', b'{"previous_secret_expires_in": "soon"}', b"{"):
        assert_bad_request(await http.put(path, content=content, headers=admin))
    assert_invalid(await http.put(f"{CLIENTS}/{world.spa.client.id}/generate_secret", headers=admin), "kind")


async def test_only_admins_of_the_account_may_manage_clients(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    for user in (world.user, await agent(stores, world, clock)):
        headers = await bearer(stores, world, user, "read write", clock)
        assert_forbidden(await http.get(CLIENTS, headers=headers))
        assert_forbidden(await http.post(CLIENTS, json=NEW, headers=headers))
        assert_forbidden(await http.delete(f"{CLIENTS}/{world.web.client.id}", headers=headers))
    other = await make_world(stores, clock)
    foreign = await bearer(stores, other, other.admin, "read write", clock)
    refused = await http.get(CLIENTS, headers=foreign)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert (await http.get(CLIENTS)).status_code == 401


@pytest.mark.parametrize(
    ("scope", "reads", "writes"),
    [
        ("clients:read", 200, 403),
        ("clients:write", 403, 201),
        ("clients", 200, 201),
        ("read", 200, 403),
        ("write", 403, 201),
        ("users:read tickets:write", 403, 403),
    ],
)
async def test_scopes(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock, scope: str, reads: int, writes: int
) -> None:
    headers = await bearer(stores, world, world.admin, scope, clock)
    read = await http.get(CLIENTS, headers=headers)
    write = await http.post(CLIENTS, json=NEW, headers=headers)
    assert (read.status_code, write.status_code) == (reads, writes), (read.text, write.text)
    for refused in (r for r in (read, write) if r.status_code == 403):
        # INTERFACE.md section 6: "Anyone else: 403 {"error": "Forbidden", ...} saying what
        # is missing"; the challenge names the error as RFC 6750 section 3.1 does.
        assert refused.json()["error"] == "Forbidden"
        assert "scope" in refused.json()["description"]
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


async def test_a_browser_session_needs_the_csrf_header_to_write(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.admin.email)
    me = (await http.get("/api/v2/users/me")).json()["user"]
    assert (await http.get(CLIENTS)).status_code == 200
    refused = await http.post(CLIENTS, json=NEW)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["description"]
    assert refused.json()["error"] == "Forbidden"  # INTERFACE.md section 6: "Anyone else"
    made = await http.post(CLIENTS, json=NEW, headers={"X-CSRF-Token": me["authenticity_token"]})
    assert made.status_code == 201, made.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
CLIENT_FIELDS = st.sampled_from(
    [
        "name",
        "identifier",
        "kind",
        "redirect_uri",
        "company",
        "description",
        "logo_url",
        "grant_types",
        "allowed_scopes",
        "access_token_lifetime",
        "refresh_token_lifetime",
        "access_token_format",
        "signing_alg",
        "introspection",
    ]
)
plausible = st.sampled_from(
    ["x", "", "never", "public", "jwt", "https://a.example.com/cb", "\x00", "é\u202e", "1800", 10**20, -1, 1800]
)
client_bodies = (
    st.fixed_dictionaries(
        {
            "client": st.dictionaries(
                CLIENT_FIELDS, plausible | json_values | st.lists(plausible, max_size=3), max_size=8
            )
        }
    )
    | json_values
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(document=client_bodies, method=st.sampled_from(["POST", "PUT"]))
async def test_arbitrary_json_bodies_never_give_a_server_error(
    http: httpx.AsyncClient, world: World, admin: dict[str, str], document: Any, method: str
) -> None:
    path = CLIENTS if method == "POST" else f"{CLIENTS}/{world.web.client.id}"
    await assert_never_a_server_error(http, method, path, document, admin)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"client": {"name": "x", "access_token_lifetime": 1e400}}', "number is infinity when parsed as double"),
        (b'{"client": {"name": "x"', "unexpected end of data"),
    ],
)
async def test_a_body_json_cannot_read_says_why_and_where(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock, body: bytes, says: str
) -> None:
    """INTERFACE.md section 6: 400 invalid_request for a body that is not the documented
    shape, saying what to fix: a number beyond a double is JSON by RFC 8259's grammar, so
    "not JSON" alone would mislead; the reason and the place are said."""
    headers = {**await bearer(stores, world, world.admin, "write", clock), "Content-Type": "application/json"}
    response = await http.post(CLIENTS, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert says in response.json()["description"] and "at character" in response.json()["description"]
