"""Resource indicators: RFC 8707 sections 2, 2.1 and 2.2; the audience of tokens (RFC 9068
section 3, RFC 7662 section 2.2); INTERFACE.md section 8.

Section 2: resource "MUST be an absolute URI ... MUST NOT include a fragment component";
an unacceptable one is "invalid_target". Section 2.1: at the authorization endpoint the
resources apply to the whole grant; at the token endpoint the client may name fewer.
Section 2.2: a refresh may narrow the resources; never to one outside the grant.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from tessera.management import resources
from tessera.model import Resource
from tessera.storage.stores import Stores
from tests.support import (
    PASSWORD,
    Clock,
    RegisteredClient,
    World,
    add_client,
    consent,
    forms,
    fragment_of,
    make_world,
    pkce_pair,
    query_of,
    sign_in,
    token_request,
)

pytestmark = pytest.mark.anyio

MCP = "https://mcp.example.com/mcp"
REPORTS = "https://reports.example.com/"


async def register(stores: Stores, world: World, clock: Clock, uri: str, *scopes: str) -> Resource:
    spec = resources.ResourceSpec(uri=uri, name=uri, scopes=scopes)
    return await resources.create(stores, world.account, world.origin, spec, clock())


def api(world: World) -> str:
    return world.origin + "/api/v2"


async def client_credentials(
    http: httpx.AsyncClient, client: RegisteredClient, *resource: str, **params: str
) -> httpx.Response:
    data = [("grant_type", "client_credentials"), ("scope", params.pop("scope", "read"))]
    data += [("resource", uri) for uri in resource] + list(params.items())
    return await http.post("/oauth/tokens", auth=client.basic(), content=urlencode(data), headers=_FORM)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def invalid_target(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_target", response.text
    return str(response.json()["error_description"])


async def introspect(http: httpx.AsyncClient, client: RegisteredClient, token: str) -> dict[str, Any]:
    response = await http.post("/oauth/introspect", auth=client.basic(), data={"token": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {token}"})


# --- the token endpoint without a user: client_credentials ------------------------------


async def test_a_token_for_a_registered_resource_has_it_as_audience(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2 and RFC 7662 section 2.2: the token is bound to the resource asked for."""
    await register(stores, world, clock, MCP)
    response = await client_credentials(http, world.machine, MCP)
    assert response.status_code == 200, response.text
    assert (await introspect(http, world.machine, response.json()["access_token"]))["aud"] == MCP


async def test_the_api_refuses_a_token_for_another_resource(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """INTERFACE.md section 8: 401 invalid_token saying which audience the token has."""
    await register(stores, world, clock, MCP)
    token = (await client_credentials(http, world.machine, MCP)).json()["access_token"]
    refused = await me(http, token)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert MCP in refused.json()["description"]
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "resource_metadata=" in refused.headers["www-authenticate"]


async def test_without_resource_the_token_is_for_the_account_api(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md section 8: "Without resource, tokens are for the account's API"."""
    token = (await client_credentials(http, world.machine)).json()["access_token"]
    assert (await me(http, token)).status_code == 200
    assert (await introspect(http, world.machine, token))["aud"] == api(world)


async def test_the_account_api_may_be_named_without_registering_it(http: httpx.AsyncClient, world: World) -> None:
    response = await client_credentials(http, world.machine, api(world))
    assert response.status_code == 200, response.text
    assert (await me(http, response.json()["access_token"])).status_code == 200


async def test_several_resources_make_an_audience_of_several(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2: "Multiple resource parameters MAY be used"; aud is then an array."""
    await register(stores, world, clock, MCP)
    response = await client_credentials(http, world.machine, api(world), MCP)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert (await introspect(http, world.machine, token))["aud"] == [api(world), MCP]
    assert (await me(http, token)).status_code == 200


async def test_resources_may_be_a_json_list(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """The token endpoint takes JSON bodies too (INTERFACE.md section 4); repeats as a list."""
    await register(stores, world, clock, MCP)
    body = {"grant_type": "client_credentials", "scope": "read", "resource": [MCP, api(world)]}
    response = await http.post(
        "/oauth/tokens",
        auth=world.machine.basic(),
        content=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert (await introspect(http, world.machine, response.json()["access_token"]))["aud"] == [MCP, api(world)]


async def test_an_unknown_resource_is_invalid_target_naming_it(http: httpx.AsyncClient, world: World) -> None:
    description = invalid_target(await client_credentials(http, world.machine, "https://unknown.example.com/"))
    assert "https://unknown.example.com/" in description


async def test_another_accounts_resource_is_unknown_here(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Resources are per account: one registered on another account is not a target here,
    and neither is another account's API."""
    other = await make_world(stores, clock)
    await register(stores, other, clock, REPORTS)
    invalid_target(await client_credentials(http, world.machine, REPORTS))
    invalid_target(await client_credentials(http, world.machine, api(other)))


@pytest.mark.parametrize(
    ("resource", "said"),
    [(MCP + "#frag", "fragment"), ("/api/v2", "absolute URI"), ("mcp.example.com", "absolute URI")],
)
async def test_a_malformed_resource_is_invalid_target(
    http: httpx.AsyncClient, world: World, resource: str, said: str
) -> None:
    """Section 2: absolute, and no fragment."""
    assert said in invalid_target(await client_credentials(http, world.machine, resource))


async def test_a_jwt_access_token_carries_the_resource_as_aud(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 9068 section 3: aud is the resource the request indicated."""
    await register(stores, world, clock, MCP)
    jwt_machine = await add_client(
        stores, world.account, clock(), grant_types=("client_credentials",), access_token_format="jwt"
    )
    token = (await client_credentials(http, jwt_machine, MCP)).json()["access_token"]
    claims = orjson.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == MCP
    assert (await me(http, token)).status_code == 401


async def test_a_resource_that_allows_some_scopes_narrows_the_token(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP, "tickets:read")
    response = await client_credentials(http, world.machine, MCP, scope="read")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "tickets:read"
    refused = await client_credentials(http, world.machine, MCP, scope="write")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    assert "tickets:read" in refused.json()["error_description"]


async def test_a_deleted_resource_is_no_longer_a_target(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    resource = await register(stores, world, clock, MCP)
    await resources.delete(stores, world.account, resource.id, resources.ev.SYSTEM_ACTOR, clock())
    invalid_target(await client_credentials(http, world.machine, MCP))


# --- the authorization code flow and refresh --------------------------------------------


def _authorize_url(client: RegisteredClient, challenge: str, *resource: str, **params: str) -> str:
    query = [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", client.redirect_uri),
        ("scope", params.pop("scope", "read")),
        ("state", "s-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    query += [("resource", uri) for uri in resource] + list(params.items())
    return "/oauth/authorizations/new?" + urlencode(query)


async def _authorized(http: httpx.AsyncClient, world: World, *resource: str, signed_in: bool = True) -> tuple[str, str]:
    """The code of an allowed authorization request naming `resource`, and its verifier."""
    verifier, challenge = pkce_pair()
    url = _authorize_url(world.web, challenge, *resource)
    if signed_in:
        await sign_in(http, world.user.email)
        page = await http.get(url)
    else:
        login = await http.get(url)
        assert login.status_code == 302 and login.headers["location"].startswith("/access/login")
        signed = await sign_in(http, world.user.email, return_to=query_of(login.headers["location"])["return_to"])
        page = await http.get(signed.headers["location"])
    if page.status_code == 200:
        page = await consent(http, page)
    assert page.status_code in (302, 303), page.text
    return query_of(page.headers["location"])["code"], verifier


async def _redeem(http: httpx.AsyncClient, world: World, code: str, verifier: str, *resource: str) -> httpx.Response:
    data = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", world.web.redirect_uri),
        ("code_verifier", verifier),
    ] + [("resource", uri) for uri in resource]
    return await http.post("/oauth/tokens", auth=world.web.basic(), content=urlencode(data), headers=_FORM)


async def _refresh(http: httpx.AsyncClient, world: World, refresh_token: str, *resource: str) -> httpx.Response:
    data = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)] + [("resource", u) for u in resource]
    return await http.post("/oauth/tokens", auth=world.web.basic(), content=urlencode(data), headers=_FORM)


async def test_the_code_carries_the_resources_to_the_token(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2.1: a token request without resource gets what was authorized."""
    await register(stores, world, clock, MCP)
    code, verifier = await _authorized(http, world, MCP)
    response = await _redeem(http, world, code, verifier)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert (await introspect(http, world.web, token))["aud"] == MCP
    assert (await me(http, token)).status_code == 401


async def test_repeated_resources_survive_the_sign_in_and_consent_pages(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP)
    code, verifier = await _authorized(http, world, api(world), MCP, signed_in=False)
    token = (await _redeem(http, world, code, verifier)).json()["access_token"]
    assert (await introspect(http, world.web, token))["aud"] == [api(world), MCP]


async def test_the_token_request_may_name_fewer_resources_than_authorized(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP)
    code, verifier = await _authorized(http, world, api(world), MCP)
    response = await _redeem(http, world, code, verifier, api(world))
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert (await introspect(http, world.web, token))["aud"] == api(world)
    assert (await me(http, token)).status_code == 200


async def test_the_token_request_may_not_name_a_resource_that_was_not_authorized(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP)
    await register(stores, world, clock, REPORTS)
    code, verifier = await _authorized(http, world, MCP)
    assert REPORTS in invalid_target(await _redeem(http, world, code, verifier, REPORTS))
    # Without resource at the authorization request, the grant is for the account's API only.
    code, verifier = await _authorized(http, world)
    invalid_target(await _redeem(http, world, code, verifier, MCP))


async def test_an_unknown_resource_at_the_authorization_endpoint_goes_back_to_the_client(
    http: httpx.AsyncClient, world: World
) -> None:
    """Section 2: invalid_target, as an RFC 6749 section 4.1.2.1 error response (with state
    and RFC 9207's iss), since the client and its redirect URI are known."""
    await sign_in(http, world.user.email)
    _, challenge = pkce_pair()
    response = await http.get(_authorize_url(world.web, challenge, "https://unknown.example.com/"))
    assert response.status_code == 302
    assert response.headers["location"].startswith(world.web.redirect_uri + "?")
    params = query_of(response.headers["location"])
    assert params["error"] == "invalid_target"
    assert "https://unknown.example.com/" in params["error_description"]
    assert params["state"] == "s-1"
    assert params["iss"] == world.origin


async def test_the_consent_page_shows_the_scopes_the_resource_allows(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP, "tickets:read")
    await sign_in(http, world.user.email)
    _, challenge = pkce_pair()
    page = await http.get(_authorize_url(world.web, challenge, MCP, scope="read write"))
    assert page.status_code == 200, page.text
    assert "Read tickets" in page.text
    assert "Read everything" not in page.text
    assert any(f.fields.get("resource") == MCP for f in forms(page.text))
    # The user sees where the token will work (the resource's name, here its URI).
    assert f"Only at: <strong>{MCP} ({MCP})</strong>" in page.text


async def test_the_implicit_grant_binds_its_token_too(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2.1 for response_type=token: the token in the fragment is for the resource."""
    await register(stores, world, clock, MCP)
    await sign_in(http, world.user.email)
    query = [
        ("response_type", "token"),
        ("client_id", world.legacy.client_id),
        ("redirect_uri", world.legacy.redirect_uri),
        ("scope", "read"),
        ("resource", MCP),
    ]
    page = await http.get("/oauth/authorizations/new?" + urlencode(query))
    if page.status_code == 200:
        page = await consent(http, page)
    assert page.status_code in (302, 303), page.text
    token = fragment_of(page.headers["location"])["access_token"]
    assert (await introspect(http, world.legacy, token))["aud"] == MCP
    assert (await me(http, token)).status_code == 401


async def test_a_refresh_may_narrow_the_resources_and_never_widen_them(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """Section 2.2; the new refresh token keeps the whole grant, as with scopes (RFC 6749
    section 6), so a later refresh may ask for the other resource again."""
    await register(stores, world, clock, MCP)
    await register(stores, world, clock, REPORTS)
    code, verifier = await _authorized(http, world, api(world), MCP)
    first = (await _redeem(http, world, code, verifier)).json()
    narrowed = await _refresh(http, world, first["refresh_token"], MCP)
    assert narrowed.status_code == 200, narrowed.text
    assert (await introspect(http, world.web, narrowed.json()["access_token"]))["aud"] == MCP
    widened = await _refresh(http, world, narrowed.json()["refresh_token"], REPORTS)
    assert REPORTS in invalid_target(widened)
    whole = await _refresh(http, world, narrowed.json()["refresh_token"])
    assert whole.status_code == 200, whole.text
    assert (await introspect(http, world.web, whole.json()["access_token"]))["aud"] == [api(world), MCP]
    assert (await introspect(http, world.web, whole.json()["refresh_token"]))["aud"] == [api(world), MCP]


async def test_a_refresh_of_an_api_token_may_not_add_a_resource(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP)
    code, verifier = await _authorized(http, world)
    first = (await _redeem(http, world, code, verifier)).json()
    invalid_target(await _refresh(http, world, first["refresh_token"], MCP))
    again = await _refresh(http, world, first["refresh_token"], api(world))
    assert again.status_code == 200, again.text


async def test_password_grant_tokens_may_be_for_a_resource(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    await register(stores, world, clock, MCP)
    data = {"grant_type": "password", "username": world.user.email, "password": PASSWORD, "scope": "read"}
    response = await token_request(http, world.legacy, {**data, "resource": MCP})
    assert response.status_code == 200, response.text
    assert (await me(http, response.json()["access_token"])).status_code == 401
    invalid_target(await token_request(http, world.legacy, {**data, "resource": REPORTS}))


async def test_a_deleted_resource_gets_no_new_tokens_from_a_code_or_a_refresh(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """docs/resources.md "Deleting a resource": what was authorized for it before mints
    nothing for it after; the account's API part of the grant keeps working."""
    resource = await register(stores, world, clock, MCP)
    code, verifier = await _authorized(http, world, api(world), MCP)
    first = (await _redeem(http, world, code, verifier)).json()
    await resources.delete(stores, world.account, resource.id, resources.ev.SYSTEM_ACTOR, clock())
    assert MCP in invalid_target(await _refresh(http, world, first["refresh_token"]))
    narrowed = await _refresh(http, world, first["refresh_token"], api(world))
    assert narrowed.status_code == 200, narrowed.text
    code, verifier = await _authorized(http, world, api(world))
    assert (await _redeem(http, world, code, verifier)).status_code == 200
