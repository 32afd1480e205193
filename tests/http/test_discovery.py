"""Discovery: GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0 sections
3 and 4) and GET /.well-known/oauth-authorization-server (RFC 8414 sections 2 and 3), per
account (INTERFACE.md sections 2 and 4; issue 5 item 1).

RFC 8414 section 3.3: "The "issuer" value returned MUST be identical to the authorization
server's issuer identifier value into which the well-known URI string was inserted".
Issue 5: the document lists "exactly what the account supports"; the tests below use what
it advertises and check that it works, and that what it leaves out does not.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import (
    Clock,
    World,
    authorize_url,
    forms,
    fragment_of,
    make_world,
    obtain_code,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.anyio

PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


async def _allow_if_asked(http: httpx.AsyncClient, page: httpx.Response) -> httpx.Response:
    """Submit the consent form when the page is one; otherwise the page is the answer."""
    consent = [f for f in forms(page.text) if f.action == "/oauth/authorizations"] if page.status_code == 200 else []
    if not consent:
        return page
    return await http.post(consent[0].action, data=dict(consent[0].fields, decision="allow"))


async def _document(http: httpx.AsyncClient, path: str = PATHS[0], **headers: str) -> dict[str, Any]:
    response = await http.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")  # OIDC Discovery 4.2
    return response.json()  # type: ignore[no-any-return]


async def test_both_well_known_paths_serve_the_same_document(http: httpx.AsyncClient) -> None:
    assert await _document(http, PATHS[0]) == await _document(http, PATHS[1])


@pytest.mark.parametrize("path", PATHS)
async def test_issuer_is_the_account_origin_exactly(http: httpx.AsyncClient, world: World, path: str) -> None:
    """RFC 8414 section 2: "a URL that uses the "https" scheme [here http on localhost] and
    has no query or fragment components"; INTERFACE.md section 2: no trailing slash."""
    doc = await _document(http, path)
    assert doc["issuer"] == world.origin
    assert doc["issuer"] == f"http://{world.subdomain}.localhost"
    assert not doc["issuer"].endswith("/")


async def test_issuer_keeps_the_port_the_client_used(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md section 2: each account is its own issuer, e.g. http://acme.localhost:8000."""
    doc = await _document(http, Host=f"{world.subdomain}.localhost:8000")
    origin = f"http://{world.subdomain}.localhost:8000"
    assert doc["issuer"] == origin
    assert doc["token_endpoint"] == f"{origin}/oauth/tokens"


async def test_endpoints_are_the_paths_of_interface_section_4(http: httpx.AsyncClient, world: World) -> None:
    doc = await _document(http)
    origin = world.origin
    assert doc["authorization_endpoint"] == f"{origin}/oauth/authorizations/new"
    assert doc["token_endpoint"] == f"{origin}/oauth/tokens"
    assert doc["revocation_endpoint"] == f"{origin}/oauth/revoke"  # RFC 8414 section 2 / RFC 7009
    assert doc["introspection_endpoint"] == f"{origin}/oauth/introspect"  # RFC 8414 section 2 / RFC 7662
    assert doc["jwks_uri"] == f"{origin}/oauth/jwks"
    assert doc["userinfo_endpoint"] == f"{origin}/oauth/userinfo"
    assert doc["end_session_endpoint"] == f"{origin}/access/logout"  # RP-Initiated Logout 1.0 section 2.1


async def test_every_advertised_endpoint_answers(http: httpx.AsyncClient) -> None:
    """The URLs lead somewhere: the JWKS answers 200, the client endpoints refuse an empty
    request with an OAuth error rather than a 404."""
    doc = await _document(http)

    def path(member: str) -> str:
        return str(urlsplit(doc[member]).path)

    assert (await http.get(path("jwks_uri"))).status_code == 200
    assert (await http.get(path("userinfo_endpoint"))).status_code == 401
    for member in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        response = await http.post(path(member), data={})
        assert response.status_code in (400, 401), (member, response.status_code)
        assert "error" in response.json()
    assert (await http.get(path("authorization_endpoint"))).status_code == 400  # no client_id: error page
    assert (await http.get(path("end_session_endpoint"))).status_code == 200


async def test_iss_parameter_and_pkce_methods(http: httpx.AsyncClient) -> None:
    """RFC 9207 section 3; INTERFACE.md section 5; RFC 7636 section 4.2 (plain is refused)."""
    doc = await _document(http)
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["code_challenge_methods_supported"] == ["S256"]


async def test_signing_algorithms(http: httpx.AsyncClient) -> None:
    """OIDC Discovery 3: id_token_signing_alg_values_supported "MUST" include RS256; Tessera
    signs with ES256 by default (issue 5 item 2); "none" must not be offered."""
    algs = (await _document(http))["id_token_signing_alg_values_supported"]
    assert "RS256" in algs
    assert "ES256" in algs
    assert "none" not in algs
    assert (await _document(http))["subject_types_supported"] == ["public"]


async def test_auth_methods(http: httpx.AsyncClient) -> None:
    """INTERFACE.md sections 4 and 10: Basic, body credentials, none for public clients, and
    private_key_jwt (RFC 7523) with its signing algorithms (RFC 8414 section 2), never none
    or an HMAC."""
    doc = await _document(http)
    methods = {"client_secret_basic", "client_secret_post", "none", "private_key_jwt"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == methods
    assert set(doc["revocation_endpoint_auth_methods_supported"]) == methods
    assert set(doc["introspection_endpoint_auth_methods_supported"]) == methods - {"none"}
    for endpoint in ("token", "revocation", "introspection"):
        algs = doc[f"{endpoint}_endpoint_auth_signing_alg_values_supported"]
        assert {"RS256", "PS256", "ES256", "EdDSA"} <= set(algs)
        assert not {"none", "HS256", "HS384", "HS512"} & set(algs)


async def test_response_types_and_grant_types_advertised(http: httpx.AsyncClient) -> None:
    """RFC 8414 section 2; RFC 8628 section 4: the device grant by its URN."""
    doc = await _document(http)
    assert set(doc["response_types_supported"]) == {"code", "token"}
    assert set(doc["grant_types_supported"]) == {
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert "offline_access" in doc["scopes_supported"]
    assert "openid" in doc["scopes_supported"]  # OIDC Discovery 3: "MUST support the openid scope value"


async def test_advertised_token_grant_types_are_understood(http: httpx.AsyncClient, world: World) -> None:
    """Each advertised grant type (but implicit, which never reaches the token endpoint) is
    known to the token endpoint; one it does not advertise is unsupported_grant_type."""
    doc = await _document(http)
    for grant_type in set(doc["grant_types_supported"]) - {"implicit"}:
        response = await http.post("/oauth/tokens", auth=world.web.basic(), data={"grant_type": grant_type})
        assert response.json()["error"] != "unsupported_grant_type", grant_type
    other = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
    )
    assert other.json()["error"] == "unsupported_grant_type"


async def test_advertised_response_types_work(http: httpx.AsyncClient, world: World) -> None:
    """code with the web client, token with the implicit (legacy) client; an unadvertised
    response_type is unsupported_response_type (RFC 6749 section 4.1.2.1)."""
    await sign_in(http, world.user.email)
    code = await _allow_if_asked(http, await http.get(authorize_url(world.web)))
    assert "code" in query_of(code.headers["location"])
    token = await _allow_if_asked(http, await http.get(authorize_url(world.legacy, response_type="token")))
    assert "access_token" in fragment_of(token.headers["location"])
    refused = await http.get(authorize_url(world.web, response_type="id_token", scope="openid", nonce="n"))
    assert refused.status_code == 302
    # A response type with id_token answers in the fragment, its errors too (OIDC Core 3.2.2.6).
    assert fragment_of(refused.headers["location"])["error"] == "unsupported_response_type"


async def test_advertised_response_modes_work(http: httpx.AsyncClient, world: World) -> None:
    """OAuth 2.0 Form Post Response Mode: form_post answers an auto-submitting form."""
    doc = await _document(http)
    assert set(doc["response_modes_supported"]) == {"query", "fragment", "form_post"}
    await sign_in(http, world.user.email)
    page = await _allow_if_asked(http, await http.get(authorize_url(world.web, response_mode="form_post")))
    assert page.status_code == 200, page.text
    posted = forms(page.text)[0]
    assert posted.action == world.web.redirect_uri
    assert posted.method == "post"
    assert posted.fields["code"].startswith("tsc_")
    assert posted.fields["iss"] == world.origin


async def test_address_and_phone_are_advertised(http: httpx.AsyncClient) -> None:
    """INTERFACE.md "Scopes" and OIDC Core 5.4: the standard address and phone scopes are
    listed in scopes_supported (OIDC Discovery 3), beside openid, profile and email."""
    scopes = (await _document(http))["scopes_supported"]
    assert {"openid", "profile", "email", "address", "phone", "offline_access"} <= set(scopes)


async def test_every_advertised_scope_is_accepted(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md "Scopes": an unknown scope is invalid_scope at authorization; every scope
    the document lists is known, so asking for all of them reaches the consent page."""
    scopes = (await _document(http))["scopes_supported"]
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web, scope=" ".join(scopes)))
    assert page.status_code == 200, page.headers.get("location")
    assert any(f.action == "/oauth/authorizations" for f in forms(page.text))
    unknown = await http.get(authorize_url(world.web, scope="read not-a-scope"))
    assert query_of(unknown.headers["location"])["error"] == "invalid_scope"


@pytest.mark.parametrize(("parameter", "error"), [("request", "request_not_supported")])
async def test_unsupported_request_objects_are_refused(
    http: httpx.AsyncClient, world: World, parameter: str, error: str
) -> None:
    """OIDC Core 6.1: "Should an OP not support this parameter and an RP uses it, the OP MUST
    return the request_not_supported error". The document says request_parameter_supported
    is false; an OP that ignores the Request Object would act on unsigned parameters the RP
    meant to protect. (request_uri is supported for pushed requests only, RFC 9126: a
    request_uri Tessera did not issue is refused, tests/http/test_par.py.)"""
    doc = await _document(http)
    assert doc[f"{parameter}_parameter_supported"] is False
    await obtain_code(http, world.web, world.user.email, scope="openid")  # signed in and consented
    value = "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9." if parameter == "request" else "https://rp.example/r/1"
    response = await http.get(authorize_url(world.web, scope="openid", state="ro", **{parameter: value}))
    assert response.status_code == 302
    params = query_of(response.headers["location"])
    assert params.get("error") == error
    assert "code" not in params
    assert params["state"] == "ro"


async def test_claims_supported_cover_the_id_token_and_userinfo_claims(http: httpx.AsyncClient) -> None:
    claims = set((await _document(http))["claims_supported"])
    assert {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"} <= claims
    assert {"name", "email", "email_verified"} <= claims


async def test_ui_locales_supported_names_the_languages_a_ui_locales_may_choose(
    http: httpx.AsyncClient, world: World
) -> None:
    """OpenID Connect Discovery 1.0 section 3 (ui_locales_supported); each one, asked for
    with ui_locales (OIDC Core 1.0 section 3.1.2.1), is the sign-in page's language."""
    supported = (await _document(http))["ui_locales_supported"]
    assert supported == ["en", "de", "ja", "ar"]
    for tag in supported:
        start = await http.get(authorize_url(world.web, ui_locales=tag), headers={"Accept-Language": "fr"})
        login = await http.get(start.headers["location"], headers={"Accept-Language": "fr"})
        assert login.headers["Content-Language"] == tag


@pytest.mark.parametrize("path", PATHS)
async def test_platform_host_has_no_discovery_document(http: httpx.AsyncClient, path: str) -> None:
    """INTERFACE.md section 2: the bare base domain "is not an issuer and has no discovery document"."""
    assert (await http.get(path, headers={"Host": "localhost"})).status_code == 404
    assert (await http.get(path, headers={"Host": "localhost:8000"})).status_code == 404


@pytest.mark.parametrize("path", PATHS)
async def test_unknown_subdomain_is_404(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path, headers={"Host": "no-such-account.localhost"})).status_code == 404


async def test_other_account_has_its_own_issuer(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    doc = await _document(http, Host=f"{other.subdomain}.localhost")
    assert doc["issuer"] == other.origin
    assert doc["jwks_uri"] == f"{other.origin}/oauth/jwks"
    assert doc["issuer"] != world.origin
