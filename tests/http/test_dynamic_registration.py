"""Dynamic client registration: RFC 7591 sections 2, 3, 3.1, 3.2.1 and 3.2.2, RFC 7592
sections 2.1, 2.2, 2.3 and 3, under the account policy of INTERFACE.md section 8 (off,
token, open), with the limits of a client that registered itself and the throttles of
section 9. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tessera.app import create_app
from tessera.management import accounts, audit_events, registration_tokens
from tessera.settings import Settings
from tessera.storage.audit import AuditFilter
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, authorize_url, obtain_code, pkce_pair, sign_in

pytestmark = pytest.mark.anyio

REGISTER = "/oauth/register"
TOKEN = "/oauth/tokens"
ME = "/api/v2/users/me"
DISCOVERY = "/.well-known/oauth-authorization-server"
ADMIN = audit_events.Actor(None, "Ada Admin")
AGENT = {
    "client_name": "Claude Desktop",
    "redirect_uris": ["https://agent.example/callback", "http://127.0.0.1/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "read write",
    "logo_uri": "https://agent.example/logo.png",
}


async def policy(stores: Stores, world: World, value: str) -> None:
    """Set before the app first sees the account (the app remembers accounts for 2 s)."""
    await accounts.set_registration_policy(stores, world.subdomain, value)


async def initial_token(stores: Stores, world: World, clock: Clock, expires_in: int = 3600) -> str:
    made = await registration_tokens.create(stores, world.account, ADMIN, clock(), expires_in)
    return made.full_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(http: httpx.AsyncClient, body: Any = None, token: str | None = None) -> httpx.Response:
    return await http.post(REGISTER, json=AGENT if body is None else body, headers=bearer(token) if token else {})


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert response.headers["cache-control"] == "no-store"
    return str(body["error_description"])


def invalid_token(response: httpx.Response) -> None:
    error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith("Bearer "), response.headers
    # RFC 6750 section 3.1: a request that sent credentials is told what was wrong with
    # them in the challenge; one that sent none "SHOULD NOT" get an error code there.
    sent = "authorization" in response.request.headers
    assert ('error="invalid_token"' in response.headers["www-authenticate"]) == sent, response.headers


@pytest.fixture
async def open_http(stores: Stores, world: World, http: httpx.AsyncClient) -> httpx.AsyncClient:
    await policy(stores, world, "open")
    return http


async def registered(http: httpx.AsyncClient, body: Any = None) -> dict[str, Any]:
    response = await register(http, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# --- The policy: INTERFACE.md section 8 -------------------------------------------------------


async def test_policy_off_answers_404_json_and_discovery_names_no_registration_endpoint(
    http: httpx.AsyncClient, world: World
) -> None:
    assert world.account.registration_policy == "off"  # the default
    response = await register(http)
    error(response, 404, "not_found")
    error(await http.get(f"{REGISTER}/{world.web.client_id}", headers=bearer("tsg_x")), 404, "not_found")
    assert "registration_endpoint" not in (await http.get(DISCOVERY)).json()


@pytest.mark.parametrize("value", ["token", "open"])
async def test_rfc_8414_discovery_names_the_registration_endpoint_unless_off(
    stores: Stores, world: World, http: httpx.AsyncClient, value: str
) -> None:
    await policy(stores, world, value)
    for path in (DISCOVERY, "/.well-known/openid-configuration"):
        assert (await http.get(path)).json()["registration_endpoint"] == world.origin + REGISTER


async def test_policy_token_needs_an_initial_access_token(
    stores: Stores, world: World, http: httpx.AsyncClient
) -> None:
    """RFC 7591 section 3: the endpoint "MAY be designed to require" an initial access token."""
    await policy(stores, world, "token")
    invalid_token(await register(http))
    invalid_token(await register(http, token="tsi_" + "x" * 43))
    invalid_token(await http.post(REGISTER, json=AGENT, headers={"Authorization": "Basic eDp5"}))


async def test_an_initial_access_token_registers_one_client_only(
    stores: Stores, world: World, clock: Clock, http: httpx.AsyncClient
) -> None:
    await policy(stores, world, "token")
    token = await initial_token(stores, world, clock)
    assert token.startswith("tsi_")
    first = await register(http, token=token)
    assert first.status_code == 201, first.text
    invalid_token(await register(http, token=token))
    listed = await registration_tokens.list_tokens(stores, world.account)
    assert listed[0].used_at is not None
    assert listed[0].client_id is not None


async def test_bad_metadata_does_not_spend_the_initial_access_token(
    stores: Stores, world: World, clock: Clock, http: httpx.AsyncClient
) -> None:
    await policy(stores, world, "token")
    token = await initial_token(stores, world, clock)
    error(await register(http, {**AGENT, "redirect_uris": ["ftp://x"]}, token), 400, "invalid_redirect_uri")
    assert (await register(http, token=token)).status_code == 201


async def test_an_expired_or_revoked_initial_access_token_is_refused(
    stores: Stores, world: World, clock: Clock, http: httpx.AsyncClient
) -> None:
    await policy(stores, world, "token")
    expiring = await initial_token(stores, world, clock, expires_in=60)
    revoked = await initial_token(stores, world, clock)
    newest = (await registration_tokens.list_tokens(stores, world.account))[0]
    await registration_tokens.revoke(stores, world.account, newest.id, ADMIN, clock())
    invalid_token(await register(http, token=revoked))
    clock.advance(61)
    invalid_token(await register(http, token=expiring))


async def test_one_initial_access_token_raced_by_two_registrations_makes_one_client(
    stores: Stores, world: World, clock: Clock, http: httpx.AsyncClient
) -> None:
    """Claimed by one conditional update, like a code (DESIGN.md)."""
    await policy(stores, world, "token")
    token = await initial_token(stores, world, clock)
    answers = await asyncio.gather(*(register(http, token=token) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 401, 401, 401], [a.text for a in answers]


async def test_an_initial_access_token_of_another_account_is_refused(
    stores: Stores, world: World, clock: Clock, http: httpx.AsyncClient
) -> None:
    from tests.support import make_world

    other = await make_world(stores, clock)
    await policy(stores, world, "token")
    foreign = (await registration_tokens.create(stores, other.account, ADMIN, clock())).full_token
    invalid_token(await register(http, token=foreign))


# --- RFC 7591 section 3.2.1: the registration response ----------------------------------------


async def test_rfc_7591_3_2_1_a_confidential_client_gets_its_id_secret_and_registration_token(
    open_http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    response = await register(open_http, {**AGENT, "contacts": ["ops@agent.example"], "unknown_field": 42})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_secret"].startswith("tss_")
    assert body["client_secret_expires_at"] == 0
    assert body["registration_access_token"].startswith("tsg_")
    assert body["registration_client_uri"] == f"{world.origin}{REGISTER}/{body['client_id']}"
    assert abs(body["client_id_issued_at"] - clock()) < 5
    assert body["client_name"] == "Claude Desktop"
    assert body["redirect_uris"] == AGENT["redirect_uris"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591 section 2's default
    assert body["scope"] == "read write"
    assert body["logo_uri"] == "https://agent.example/logo.png"
    # RFC 7591 section 2: unknown fields are ignored; what is not kept is not echoed.
    assert "unknown_field" not in body and "contacts" not in body
    client = await stores.clients.find(world.account.id, body["client_id"])
    assert client is not None and client.registration == "dynamic" and client.is_self_registered
    assert client.user_id is None and client.grant_types == {"authorization_code", "refresh_token"}


async def test_a_public_client_gets_no_secret(open_http: httpx.AsyncClient) -> None:
    body = await registered(
        open_http, {"redirect_uris": ["http://127.0.0.1:33418/cb"], "token_endpoint_auth_method": "none"}
    )
    assert "client_secret" not in body and "client_secret_expires_at" not in body
    assert body["token_endpoint_auth_method"] == "none"
    # RFC 7591 section 2: grant_types defaults to authorization_code; the name to the client_id.
    assert body["grant_types"] == ["authorization_code"]
    assert body["client_name"] == body["client_id"]


async def test_client_secret_post_is_kept_as_asked(open_http: httpx.AsyncClient) -> None:
    body = await registered(open_http, {**AGENT, "token_endpoint_auth_method": "client_secret_post"})
    assert body["token_endpoint_auth_method"] == "client_secret_post"


async def test_private_key_jwt_registers_its_public_keys_and_gets_no_secret(open_http: httpx.AsyncClient) -> None:
    """RFC 7591 section 2 (jwks by value) and RFC 7523: the client authenticates with its keys."""
    key = {"kty": "EC", "crv": "P-256", "kid": "a1"}
    key |= {"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    body = await registered(
        open_http, {**AGENT, "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key]}}
    )
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["jwks"] == {"keys": [key]}
    assert "client_secret" not in body and "client_secret_expires_at" not in body


async def test_the_api_and_the_audit_log_mark_the_client_as_registered_itself(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    client = await stores.clients.find(world.account.id, body["client_id"])
    assert client is not None
    entries = await stores.audit.newest_first(world.account.id, AuditFilter(action="register"))
    assert [e.entry.source_id for e in entries] == [client.id]
    assert entries[0].entry.source_type == "oauth_client"
    assert entries[0].entry.actor_name == "Anonymous (open registration)"
    assert entries[0].entry.ip_address == "127.0.0.1"
    for secret in (body["client_secret"], body["registration_access_token"]):
        assert secret[:8] not in entries[0].entry.change_description + entries[0].entry.source_label


# --- RFC 7591 section 3.2.2: errors, each naming the field ------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"redirect_uris": []}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": ["http://agent.example/cb"]}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": ["com.agent.app:/cb"]}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": ["https://agent.example/cb#x"]}, "invalid_redirect_uri", "redirect_uris"),
        ({"redirect_uris": "https://agent.example/cb"}, "invalid_client_metadata", "redirect_uris"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata", "grant_types"),
        ({"grant_types": ["authorization_code", "implicit"]}, "invalid_client_metadata", "grant_types"),
        ({"grant_types": ["refresh_token"]}, "invalid_client_metadata", "grant_types"),
        ({"response_types": ["token"]}, "invalid_client_metadata", "response_types"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata", "token_endpoint_auth_method"),
        # RFC 7523 via RFC 7591 section 2: private_key_jwt needs jwks (by value), of public keys.
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata", "jwks"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://a.example/k"},
            "invalid_client_metadata",
            "jwks_uri",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "EC", "d": "x"}]}},
            "invalid_client_metadata",
            "private key",
        ),
        ({"jwks": {"keys": []}}, "invalid_client_metadata", "jwks"),
        ({"scope": "read launch_missiles"}, "invalid_client_metadata", "scope"),
        ({"client_name": 7}, "invalid_client_metadata", "client_name"),
        ({"client_name": "x" * 300}, "invalid_client_metadata", "client_name"),
        # A right-to-left override reversed the consent page's sentence around the name; zero-width
        # spaces showed as no name at all (tessera/shown_text.py).
        ({"client_name": "Acme\u202eevil"}, "invalid_client_metadata", "U+202E"),
        ({"client_name": "\u200b\u200b"}, "invalid_client_metadata", "client_name"),
        ({"id_token_signed_response_alg": "HS256"}, "invalid_client_metadata", "id_token_signed_response_alg"),
        ({"id_token_signed_response_alg": "none"}, "invalid_client_metadata", "ES256, RS256"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata", "logo_uri"),
        ({"client_uri": ["https://x"]}, "invalid_client_metadata", "client_uri"),
        ({"contacts": "ops@agent.example"}, "invalid_client_metadata", "contacts"),
    ],
)
async def test_rfc_7591_3_2_2_bad_metadata_is_refused_naming_the_field(
    open_http: httpx.AsyncClient, change: dict[str, Any], code: str, field: str
) -> None:
    description = error(await register(open_http, {**AGENT, **change}), 400, code)
    assert field in description, description


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"redirect_uris": ["https://a.example/cb"]'])
async def test_a_body_that_is_not_a_json_object_is_refused(open_http: httpx.AsyncClient, body: bytes) -> None:
    response = await open_http.post(REGISTER, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("invalid_request", "invalid_client_metadata")


async def test_a_form_body_is_refused(open_http: httpx.AsyncClient) -> None:
    response = await open_http.post(REGISTER, data={"redirect_uris": "https://a.example/cb"})
    error(response, 400, "invalid_request")


# --- The registered client signs a user in (authorization code + PKCE) -------------------------


def as_registered(client: Any, body: dict[str, Any]) -> RegisteredClient:
    return RegisteredClient(client, body.get("client_secret"))


async def test_the_registered_client_completes_an_authorization_code_flow_with_pkce(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    client = await stores.clients.find(world.account.id, body["client_id"])
    agent = as_registered(client, body)
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        open_http, agent, world.user.email, scope="read", code_challenge=challenge, code_challenge_method="S256"
    )
    data = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": agent.redirect_uri}
    response = await open_http.post(TOKEN, auth=agent.basic(), data={**data, "code_verifier": verifier})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert "refresh_token" in tokens
    me = await open_http.get(ME, headers=bearer(tokens["access_token"]))
    assert me.json()["user"]["email"] == world.user.email


async def test_a_confidential_registered_client_must_still_use_pkce(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    agent = as_registered(await stores.clients.find(world.account.id, body["client_id"]), body)
    await sign_in(open_http, world.user.email)
    page = await open_http.get(authorize_url(agent))
    assert page.status_code == 302
    assert "PKCE" in page.headers["location"] or "code_challenge" in page.headers["location"]
    assert "error=invalid_request" in page.headers["location"]


async def test_the_consent_page_says_the_app_registered_itself(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    agent = as_registered(await stores.clients.find(world.account.id, body["client_id"]), body)
    await sign_in(open_http, world.user.email)
    _, challenge = pkce_pair()
    page = await open_http.get(authorize_url(agent, code_challenge=challenge, code_challenge_method="S256"))
    assert page.status_code == 200, page.text
    assert "registered itself" in page.text and "not verified" in page.text
    # An admin's client carries no such warning.
    admin_page = await open_http.get(authorize_url(world.web))
    assert admin_page.status_code == 200 and "registered itself" not in admin_page.text


# --- RFC 7592: read, update, delete ---------------------------------------------------------------


async def test_rfc_7592_2_1_read_answers_the_registration_without_the_secret(open_http: httpx.AsyncClient) -> None:
    body = await registered(open_http)
    uri = body["registration_client_uri"]
    response = await open_http.get(uri, headers=bearer(body["registration_access_token"]))
    assert response.status_code == 200, response.text
    read = response.json()
    assert "client_secret" not in read  # stored as a digest only
    for name in ("client_id", "client_name", "redirect_uris", "grant_types", "scope", "client_id_issued_at"):
        assert read[name] == body[name], name
    assert read["registration_access_token"] == body["registration_access_token"]


async def test_rfc_7592_2_wrong_missing_or_foreign_registration_tokens_are_invalid_token(
    open_http: httpx.AsyncClient, world: World
) -> None:
    first, second = await registered(open_http), await registered(open_http)
    uri = first["registration_client_uri"]
    invalid_token(await open_http.get(uri))
    invalid_token(await open_http.get(uri, headers=bearer("tsg_" + "x" * 43)))
    invalid_token(await open_http.get(uri, headers=bearer(second["registration_access_token"])))
    # Section 2.1: an unknown client answers 401 too; an admin's client has no registration.
    invalid_token(await open_http.get(f"{REGISTER}/nobody", headers=bearer(first["registration_access_token"])))
    web = f"{REGISTER}/{world.web.client_id}"
    invalid_token(await open_http.delete(web, headers=bearer(first["registration_access_token"])))


def update_of(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"client_id": body["client_id"], **AGENT, **changes}


async def test_rfc_7592_2_2_update_replaces_the_metadata_and_the_registration_token(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    uri, old = body["registration_client_uri"], body["registration_access_token"]
    new_uris = ["https://agent.example/v2/callback"]
    change = update_of(body, redirect_uris=new_uris, client_secret=body["client_secret"])
    del change["logo_uri"]  # omitted: returns to its default (a full replacement)
    response = await open_http.put(uri, json=change, headers=bearer(old))
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["redirect_uris"] == new_uris and "logo_uri" not in updated
    assert updated["client_id"] == body["client_id"] and "client_secret" not in updated
    assert updated["registration_access_token"] != old
    invalid_token(await open_http.get(uri, headers=bearer(old)))
    assert (await open_http.get(uri, headers=bearer(updated["registration_access_token"]))).status_code == 200
    client = await stores.clients.find(world.account.id, body["client_id"])
    assert client is not None and client.redirect_uris == tuple(new_uris) and client.logo_url == ""


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        ({"client_id": "someone-else"}, "invalid_request", "client_id"),
        ({"client_secret": "tss_not-the-secret"}, "invalid_request", "client_secret"),
        ({"registration_access_token": "tsg_x"}, "invalid_request", "registration_access_token"),
        ({"client_id_issued_at": 1}, "invalid_request", "client_id_issued_at"),
        ({"redirect_uris": ["http://agent.example/cb"]}, "invalid_redirect_uri", "redirect_uris"),
        ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata", "token_endpoint_auth_method"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata", "grant_types"),
    ],
)
async def test_rfc_7592_2_2_an_update_that_breaks_a_rule_changes_nothing(
    open_http: httpx.AsyncClient, change: dict[str, Any], code: str, named: str
) -> None:
    body = await registered(open_http)
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    response = await open_http.put(uri, json=update_of(body, **change), headers=bearer(token))
    assert named in error(response, 400, code)
    still = await open_http.get(uri, headers=bearer(token))  # the token was not rotated
    assert still.status_code == 200 and still.json()["redirect_uris"] == AGENT["redirect_uris"]


async def test_rfc_7592_2_3_delete_removes_the_client_and_revokes_its_tokens(
    open_http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    body = await registered(open_http)
    agent = as_registered(await stores.clients.find(world.account.id, body["client_id"]), body)
    verifier, challenge = pkce_pair()
    code = await obtain_code(open_http, agent, world.user.email, code_challenge=challenge, code_challenge_method="S256")
    data = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": agent.redirect_uri}
    tokens = (await open_http.post(TOKEN, auth=agent.basic(), data={**data, "code_verifier": verifier})).json()
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    response = await open_http.delete(uri, headers=bearer(token))
    assert response.status_code == 204, response.text
    assert (await open_http.get(ME, headers=bearer(tokens["access_token"]))).status_code == 401
    assert await stores.clients.get_own(world.account.id, agent.client.id) is None  # read from the database
    invalid_token(await open_http.get(uri, headers=bearer(token)))


# --- Throttles: INTERFACE.md section 9 --------------------------------------------------------


@pytest.fixture
async def strict(
    database: Database, settings: Settings, stores: Stores, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    await policy(stores, world, "open")
    app = create_app(
        settings.with_overrides(throttle_registration_per_address=3, throttle_client_auth_per_address=3),
        db=database,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


async def test_open_registration_is_throttled_per_source_address(strict: httpx.AsyncClient) -> None:
    statuses = [(await register(strict)).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    refused = await register(strict)
    error(refused, 429, "too_many_requests")
    assert int(refused.headers["retry-after"]) >= 1


async def test_guessing_registration_access_tokens_is_throttled(strict: httpx.AsyncClient) -> None:
    body = await registered(strict)
    uri = body["registration_client_uri"]
    for _ in range(3):
        invalid_token(await strict.get(uri, headers=bearer("tsg_" + "y" * 43)))
    error(await strict.get(uri, headers=bearer("tsg_" + "y" * 43)), 429, "too_many_requests")
    # While the address waits, even the right token is refused before it is looked at.
    right = await strict.get(uri, headers=bearer(body["registration_access_token"]))
    error(right, 429, "too_many_requests")


async def test_throttle_off_lets_every_registration_through(
    database: Database, settings: Settings, stores: Stores, world: World
) -> None:
    await policy(stores, world, "open")
    app = create_app(settings.with_overrides(throttle=False, throttle_registration_per_address=1), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        assert [(await register(client)).status_code for _ in range(3)] == [201, 201, 201]


# --- Browsers and the management API ----------------------------------------------------------


async def test_browser_agents_may_register_cross_origin(open_http: httpx.AsyncClient) -> None:
    """Like the token endpoint (INTERFACE.md section 5 allows CORS on the JSON endpoints):
    any origin, no credentials."""
    preflight = await open_http.options(
        REGISTER, headers={"Origin": "https://agent.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    response = await open_http.post(REGISTER, json=AGENT, headers={"Origin": "https://agent.example"})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


async def test_the_clients_api_shows_registration_dynamic(
    open_http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    from tests.http.admin_support import bearer as admin_bearer

    body = await registered(open_http)
    headers = await admin_bearer(stores, world, world.admin, "read", clock)
    listed = (await open_http.get("/api/v2/oauth/clients", headers=headers)).json()["clients"]
    by_identifier = {c["identifier"]: c for c in listed}
    assert by_identifier[body["client_id"]]["registration"] == "dynamic"
    assert by_identifier[world.web.client_id]["registration"] == "admin"


async def test_open_registration_ignores_an_authorization_header_it_does_not_need(
    open_http: httpx.AsyncClient,
) -> None:
    response = await open_http.post(REGISTER, json=AGENT, headers={"Authorization": "Basic eDp5"})
    assert response.status_code == 201, response.text


async def test_a_read_shows_what_an_admin_changed_since(
    open_http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 7592 section 2.1: the registration "as it is", admins' edits included."""
    from tessera.management import clients

    body = await registered(
        open_http, {"redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "none"}
    )
    client = await stores.clients.find(world.account.id, body["client_id"])
    assert client is not None
    await clients.update(
        stores, world.account, client.id, clients.ClientChanges(name="Renamed by admin"), ADMIN, clock()
    )
    read = await open_http.get(body["registration_client_uri"], headers=bearer(body["registration_access_token"]))
    assert read.json()["client_name"] == "Renamed by admin"
    assert read.json()["token_endpoint_auth_method"] == "none"


async def test_an_update_does_not_undo_what_an_admin_set(
    open_http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 7592 section 2.2 lets the server replace values it does not accept, and answer
    with the values kept. A client's own update keeps what only an admin sets (lifetime,
    description, company), never lifts a requirement an admin added (DPoP, PAR), keeps the
    grants the admin gave, and may narrow its scopes but not widen them past the admin's."""
    from tessera.management import clients

    body = await registered(
        open_http,
        {"redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "none", "scope": "read write"},
    )
    client = await stores.clients.find(world.account.id, body["client_id"])
    assert client is not None
    hardening = clients.ClientChanges(
        allowed_scopes=("read",),
        require_dpop=True,
        require_par=True,
        access_token_lifetime=300,
        description="Checked by Ada",
        company="Agent Co",
        grant_types=("authorization_code", "refresh_token", "device_code"),
    )
    await clients.update(stores, world.account, client.id, hardening, ADMIN, clock())
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    read = (await open_http.get(uri, headers=bearer(token))).json()
    server_only = (
        "registration_access_token",
        "registration_client_uri",
        "client_secret_expires_at",
        "client_id_issued_at",
    )
    read = {k: v for k, v in read.items() if k not in server_only}  # section 2.2: "MUST NOT include"

    widened = await open_http.put(uri, json={**read, "scope": "read write impersonate"}, headers=bearer(token))
    assert widened.status_code == 400, widened.text
    assert widened.json()["error"] == "invalid_client_metadata", widened.text
    assert "write impersonate" in widened.json()["error_description"]

    # What section 2.2 says a client sends: everything it read, here without the two
    # requirements and the scope (which it may not lift, and leaves as it is).
    resent = {k: v for k, v in read.items() if k not in ("scope", "dpop_bound_access_tokens")}
    resent.pop("require_pushed_authorization_requests", None)
    replaced = await open_http.put(uri, json=resent, headers=bearer(token))  # the token is still good
    assert replaced.status_code == 200, replaced.text
    answer = replaced.json()
    assert answer["scope"] == "read"
    assert answer["dpop_bound_access_tokens"] is True
    # RFC 7591 metadata names the device grant by its URN (RFC 8628 section 7.2).
    assert "urn:ietf:params:oauth:grant-type:device_code" in answer["grant_types"]
    kept = await stores.registrations.find(world.account.id, body["client_id"])
    assert kept is not None
    after = kept.client
    assert after.allowed_scopes == ("read",)
    assert after.require_dpop and after.require_par
    assert after.access_token_lifetime == 300
    assert (after.description, after.company) == ("Checked by Ada", "Agent Co")


@pytest.mark.parametrize(
    ("metadata", "code", "words"),
    [
        ({"redirect_uris": []}, "invalid_redirect_uri", "redirect_uris must list at least one redirect URI"),
        ({"redirect_uris": ["https://agent.example/cb#frag"]}, "invalid_redirect_uri", "https://agent.example/cb#frag"),
        ({"logo_uri": "http://agent.example/logo.png"}, "invalid_client_metadata", "logo_uri"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata", "must be an absolute https URL"),
    ],
)
async def test_errors_name_the_registration_field_not_the_console_or_the_cli(
    open_http: httpx.AsyncClient, metadata: dict[str, Any], code: str, words: str
) -> None:
    """INTERFACE.md section 8: bad metadata is 400 naming the field, in the protocol's own
    terms: no command-line option, no line of a console form, and a rule the message states."""
    body = {"redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "none", **metadata}
    response = await register(open_http, body)
    description = error(response, 400, code)
    assert words in description
    assert "--redirect-uri" not in description and "line 1" not in description


async def test_id_token_signed_response_alg_is_kept_and_used(
    open_http: httpx.AsyncClient, stores: Stores, world: World
) -> None:
    """OpenID Connect Dynamic Client Registration 1.0 section 2: an RP that accepts only
    RS256 says so, and its ID tokens are signed so; the response shows what was kept."""
    rs256 = await registered(open_http, {**AGENT, "id_token_signed_response_alg": "RS256"})
    assert rs256["id_token_signed_response_alg"] == "RS256"
    client = await stores.clients.find(world.account.id, rs256["client_id"])
    assert client is not None and client.signing_alg == "RS256"
    default = await registered(open_http)
    assert default["id_token_signed_response_alg"] == "ES256"


async def test_rfc_7592_2_2_a_public_clients_update_without_its_method_says_to_send_none(
    open_http: httpx.AsyncClient,
) -> None:
    """RFC 7592 section 2.2: an update replaces every field, so an omitted
    token_endpoint_auth_method is the default, client_secret_basic; the refusal says to send
    "none" rather than that the client asked to change it."""
    body = await registered(open_http, {**AGENT, "token_endpoint_auth_method": "none"})
    uri, token = body["registration_client_uri"], body["registration_access_token"]
    response = await open_http.put(uri, json=update_of(body), headers=bearer(token))
    said = error(response, 400, "invalid_client_metadata")
    assert "send token_endpoint_auth_method with the value none" in said
    kept = await open_http.put(uri, json=update_of(body, token_endpoint_auth_method="none"), headers=bearer(token))
    assert kept.status_code == 200, kept.text
