"""Protected-resource metadata: RFC 9728 sections 2, 3 and 5.1, for each account's API
(INTERFACE.md section 8).

Section 3.1: the metadata URL is the resource's identifier with
"/.well-known/oauth-protected-resource" inserted between host and path. Section 3.3: the
"resource" value "MUST be identical to the protected resource's resource identifier value
into which the well-known URI path suffix was inserted". Section 5.1: a protected resource
may name its metadata URL in WWW-Authenticate with the resource_metadata parameter.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import World

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-protected-resource"
API_METADATA = WELL_KNOWN + "/api/v2"


async def _metadata(http: httpx.AsyncClient, path: str = API_METADATA, **headers: str) -> dict[str, Any]:
    response = await http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


async def test_the_api_is_a_protected_resource_whose_server_is_the_account(
    http: httpx.AsyncClient, world: World
) -> None:
    """Sections 2 and 3.3: resource is the identifier the well-known URL was built from;
    authorization_servers names the account's issuer."""
    doc = await _metadata(http)
    assert doc["resource"] == world.origin + "/api/v2"
    assert doc["authorization_servers"] == [world.origin]
    assert doc["bearer_methods_supported"] == ["header"]
    assert doc["resource_name"] == f"{world.account.name} API"
    assert {"read", "write", "tickets:read", "users:write"} <= set(doc["scopes_supported"])
    # OIDC scopes are about the user, asked of the authorization server, not of the API.
    assert "openid" not in doc["scopes_supported"]
    assert doc["resource_documentation"].startswith(world.origin + "/")


async def test_the_bare_well_known_path_answers_the_same_document(http: httpx.AsyncClient) -> None:
    """INTERFACE.md section 8: both paths, for clients that look at the bare one first."""
    assert await _metadata(http, WELL_KNOWN) == await _metadata(http, API_METADATA)


async def test_the_named_authorization_server_publishes_its_metadata(http: httpx.AsyncClient, world: World) -> None:
    """Section 2 (authorization_servers) and RFC 8414 section 3: what a client does next."""
    issuer = (await _metadata(http))["authorization_servers"][0]
    assert issuer == world.origin
    server = await http.get("/.well-known/oauth-authorization-server")
    assert server.json()["issuer"] == issuer


async def test_the_metadata_may_be_read_from_any_origin(http: httpx.AsyncClient) -> None:
    """Like discovery (INTERFACE.md section 5): browser apps fetch it cross-origin."""
    response = await http.get(API_METADATA, headers={"Origin": "https://app.example.com"})
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", [API_METADATA, WELL_KNOWN])
async def test_the_platform_host_has_no_api_and_no_metadata(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path, headers={"Host": "localhost"})).status_code == 404
    assert (await http.get(path, headers={"Host": "no-such-account.localhost"})).status_code == 404


def _challenge_params(header: str, expected_scheme: str = "Bearer") -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == expected_scheme
    params = {}
    for part in rest.split('", '):
        name, _, value = part.partition("=")
        params[name.strip()] = value.strip().strip('"')
    return params


async def test_a_request_without_credentials_is_told_where_the_metadata_is(
    http: httpx.AsyncClient, world: World
) -> None:
    """Section 5.1 and RFC 6750 section 3.1: realm and resource_metadata, no error code."""
    response = await http.get("/api/v2/users/me")
    assert response.status_code == 401
    params = _challenge_params(response.headers["www-authenticate"])
    assert params["resource_metadata"] == world.origin + API_METADATA
    assert params["realm"] == world.subdomain
    assert "error" not in params


async def test_an_invalid_token_is_told_where_the_metadata_is(http: httpx.AsyncClient, world: World) -> None:
    """Section 5.1 beside RFC 6750 section 3.1's error, for every refused API call."""
    for path in ("/api/v2/users/me", "/api/v2/tickets.json", "/api/v2/oauth/clients"):
        response = await http.get(path, headers={"Authorization": "Bearer tsa_not-a-token"})
        assert response.status_code == 401, path
        params = _challenge_params(response.headers["www-authenticate"])
        assert params["error"] == "invalid_token"
        assert params["resource_metadata"] == world.origin + API_METADATA


async def test_a_refused_dpop_call_is_told_where_the_metadata_is(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md section 8: every 401 from /api/v2 carries resource_metadata, the DPoP
    scheme's challenge (RFC 9449 section 7.1) as much as the Bearer one."""
    for authorization in ("DPoP tsa_not-a-token", "DPoP "):
        response = await http.get("/api/v2/users/me", headers={"Authorization": authorization})
        assert response.status_code == 401, authorization
        params = _challenge_params(response.headers["www-authenticate"], "DPoP")
        assert params["error"] == "invalid_token"
        assert params["resource_metadata"] == world.origin + API_METADATA


async def test_the_metadata_url_in_the_challenge_answers_the_metadata(http: httpx.AsyncClient, world: World) -> None:
    """What an MCP client does with nothing but the API's URL: call it, follow the header."""
    refused = await http.get("/api/v2/users/me")
    url = _challenge_params(refused.headers["www-authenticate"])["resource_metadata"]
    doc = await _metadata(http, url.removeprefix(world.origin))
    assert doc["resource"] == world.origin + "/api/v2"
