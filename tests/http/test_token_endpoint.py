"""The token endpoint's request and response rules: RFC 6749 sections 2.3.1, 3.2, 3.2.1,
5.1 and 5.2; INTERFACE.md "Token endpoint".

Most requests use the client_credentials grant of `world.machine`: it needs no user, so
each test isolates the rule it checks (parameters, client authentication, grant
selection, response shape).
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, World, make_world, obtain_code, pkce_pair

pytestmark = pytest.mark.anyio

TOKEN = "/oauth/tokens"
# RFC 6749 section 5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")


def oauth_error(response: httpx.Response, status: int, error: str) -> str:
    """Assert an RFC 6749 section 5.2 error and return its description."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert DESCRIPTION.match(body["error_description"]), body["error_description"]
    return str(body["error_description"])


def machine_form(world: World, **extra: str) -> dict[str, str]:
    assert world.machine.secret is not None
    return {
        "grant_type": "client_credentials",
        "scope": "read",
        "client_id": world.machine.client_id,
        "client_secret": world.machine.secret,
        **extra,
    }


def basic_header(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def percent_encode_all(value: str) -> str:
    """Percent-encode every byte: a form-urlencoded value any compliant decoder reads back."""
    return "".join(f"%{byte:02X}" for byte in value.encode())


# --- success: RFC 6749 section 5.1 ---------------------------------------------------


async def test_success_is_200_with_no_store_and_the_documented_fields(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    # Section 5.1: 200 (Zendesk's 201 is what INTERFACE.md says Tessera does not do).
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    # client_credentials never carries a refresh token (INTERFACE.md section 5).
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read"
    assert body["expires_in"] == 1800
    assert body["access_token"].startswith("tsa_")


async def test_a_client_with_the_refresh_grant_gets_a_refresh_token_and_its_lifetime(
    http: httpx.AsyncClient, world: World
) -> None:
    returned = await obtain_code(http, world.web, world.user.email, scope="read write")
    response = await http.post(
        TOKEN,
        auth=world.web.basic(),
        data={"grant_type": "authorization_code", "code": returned["code"], "redirect_uri": world.web.redirect_uri},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "scope",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read write"
    assert body["expires_in"] == 1800
    assert body["refresh_token_expires_in"] == 2592000
    assert body["access_token"].startswith("tsa_")
    assert body["refresh_token"].startswith("tsr_")


async def test_a_client_without_the_refresh_grant_gets_no_refresh_token(http: httpx.AsyncClient, world: World) -> None:
    # world.legacy: authorization_code without refresh_token, and non-expiring tokens.
    returned = await obtain_code(http, world.legacy, world.user.email)
    response = await http.post(
        TOKEN,
        auth=world.legacy.basic(),
        data={"grant_type": "authorization_code", "code": returned["code"], "redirect_uri": world.legacy.redirect_uri},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # No expires_in for legacy non-expiring tokens; no refresh_token* without the grant.
    assert set(body) == {"access_token", "token_type", "scope"}
    assert body["scope"] == "read"


# --- bodies: form and JSON (INTERFACE.md "Token endpoint") ---------------------------


async def test_form_body_with_client_secret_post(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, data=machine_form(world))
    assert response.status_code == 200, response.text
    assert response.json()["access_token"].startswith("tsa_")


async def test_json_body_is_accepted(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, json=machine_form(world))
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read"


async def test_json_body_takes_numbers_for_expires_in(http: httpx.AsyncClient, world: World) -> None:
    body = {**machine_form(world), "expires_in": 3600}
    response = await http.post(TOKEN, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 3600


async def test_json_body_with_a_charset_parameter_is_accepted(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN,
        content=json.dumps(machine_form(world)).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


async def test_json_body_with_a_fractional_expires_in_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    body = {**machine_form(world), "expires_in": 3600.5}
    response = await http.post(TOKEN, json=body)
    oauth_error(response, 400, "invalid_request")


async def test_json_body_that_is_not_an_object_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, json=[machine_form(world)])
    oauth_error(response, 400, "invalid_request")


async def test_malformed_json_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN, content=b'{"grant_type": "client_credentials",', headers={"Content-Type": "application/json"}
    )
    oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
async def test_unsupported_content_type_is_invalid_request(
    http: httpx.AsyncClient, world: World, content_type: str
) -> None:
    assert world.machine.secret is not None
    content = f"grant_type=client_credentials&scope=read&client_id={world.machine.client_id}&client_secret={world.machine.secret}"
    response = await http.post(TOKEN, content=content.encode(), headers={"Content-Type": content_type})
    description = oauth_error(response, 400, "invalid_request")
    assert "Content-Type" in description


async def test_oversized_form_body_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, data=machine_form(world, padding="x" * 70_000))
    description = oauth_error(response, 400, "invalid_request")
    assert "larger than" in description


async def test_oversized_streamed_body_without_length_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    """A chunked body declares no Content-Length; the limit must still hold while reading."""
    assert world.machine.secret is not None
    head = f"grant_type=client_credentials&scope=read&client_id={world.machine.client_id}&client_secret={world.machine.secret}&padding="

    async def chunks():  # type: ignore[no-untyped-def]
        yield head.encode()
        for _ in range(20):
            yield b"x" * 4096

    response = await http.post(TOKEN, content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    oauth_error(response, 400, "invalid_request")


async def test_a_flood_of_form_fields_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    fields = {f"f{i}": "x" for i in range(200)}
    response = await http.post(TOKEN, data=machine_form(world, **fields))
    oauth_error(response, 400, "invalid_request")


async def test_a_repeated_parameter_is_invalid_request_naming_it(http: httpx.AsyncClient, world: World) -> None:
    # RFC 6749 section 3.2: "Request and response parameters MUST NOT be included more than once."
    content = b"grant_type=client_credentials&scope=read&scope=write"
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    description = oauth_error(response, 400, "invalid_request")
    assert "'scope'" in description
    assert "more than once" in description


# --- client authentication: RFC 6749 sections 2.3.1 and 3.2.1 ------------------------


async def test_client_secret_basic_decodes_form_urlencoded_credentials(http: httpx.AsyncClient, world: World) -> None:
    """Section 2.3.1: the id and secret are form-urlencoded, then joined with ':' and base64-encoded."""
    assert world.machine.secret is not None
    header = basic_header(percent_encode_all(world.machine.client_id), percent_encode_all(world.machine.secret))
    response = await http.post(
        TOKEN, headers={"Authorization": header}, data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text


async def test_public_client_authenticates_with_client_id_alone(http: httpx.AsyncClient, world: World) -> None:
    verifier, challenge = pkce_pair()
    returned = await obtain_code(
        http, world.spa, world.user.email, code_challenge=challenge, code_challenge_method="S256"
    )
    response = await http.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": world.spa.client_id,
            "code": returned["code"],
            "redirect_uri": world.spa.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"].startswith("tsa_")


async def test_a_public_client_presenting_a_secret_is_invalid_client(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN,
        data={
            "grant_type": "authorization_code",
            "client_id": world.spa.client_id,
            "client_secret": "tss_guess",
            "code": "tsc_whatever",
        },
    )
    oauth_error(response, 401, "invalid_client")


async def test_a_confidential_client_without_its_secret_is_invalid_client(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "scope": "read", "client_id": world.machine.client_id}
    )
    description = oauth_error(response, 401, "invalid_client")
    assert "client_secret" in description
    assert "www-authenticate" not in response.headers


async def test_no_client_credentials_at_all_is_invalid_client(http: httpx.AsyncClient) -> None:
    response = await http.post(TOKEN, data={"grant_type": "client_credentials", "scope": "read"})
    oauth_error(response, 401, "invalid_client")
    assert "www-authenticate" not in response.headers


async def test_secret_both_in_basic_and_in_body_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    # Section 2.3: "The client MUST NOT use more than one authentication method in each request."
    assert world.machine.secret is not None
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read", "client_secret": world.machine.secret},
    )
    oauth_error(response, 400, "invalid_request")


async def test_body_client_id_naming_the_basic_client_is_accepted(http: httpx.AsyncClient, world: World) -> None:
    # requests-oauthlib sends client_id in the body beside Basic.
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read", "client_id": world.machine.client_id},
    )
    assert response.status_code == 200, response.text


async def test_body_client_id_naming_another_client_than_basic_is_refused(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read", "client_id": world.web.client_id},
    )
    oauth_error(response, 400, "invalid_request")


async def test_unknown_client_in_the_body_is_401_without_a_basic_challenge(http: httpx.AsyncClient) -> None:
    response = await http.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": "no-such-client", "client_secret": "tss_x"},
    )
    description = oauth_error(response, 401, "invalid_client")
    assert "no-such-client" in description
    assert "www-authenticate" not in response.headers


async def test_unknown_client_in_basic_is_401_with_a_basic_challenge(http: httpx.AsyncClient) -> None:
    # Section 5.2: with Basic, the server "MUST respond with an HTTP 401 ... and include the
    # WWW-Authenticate response header field matching the authentication scheme used".
    response = await http.post(TOKEN, auth=("no-such-client", "tss_x"), data={"grant_type": "client_credentials"})
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_wrong_secret_in_basic_is_401_with_a_challenge(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN,
        auth=(world.machine.client_id, "tss_wrong"),
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    description = oauth_error(response, 401, "invalid_client")
    assert "client_secret is wrong" in description
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_wrong_secret_in_the_body_is_401_without_a_challenge(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, data=machine_form(world, client_secret="tss_wrong"))
    oauth_error(response, 401, "invalid_client")
    assert "www-authenticate" not in response.headers


async def test_malformed_basic_credentials_are_invalid_client_with_a_challenge(http: httpx.AsyncClient) -> None:
    response = await http.post(
        TOKEN, headers={"Authorization": "Basic !!!not-base64!!!"}, data={"grant_type": "client_credentials"}
    )
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_numeric_client_id_in_the_body_names_the_identifier_to_send(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.post(TOKEN, data=machine_form(world, client_id=str(world.machine.client.id)))
    description = oauth_error(response, 401, "invalid_client")
    assert f"send its identifier '{world.machine.client_id}'" in description


async def test_numeric_client_id_in_basic_names_the_identifier_to_send(http: httpx.AsyncClient, world: World) -> None:
    assert world.machine.secret is not None
    response = await http.post(
        TOKEN,
        auth=(str(world.machine.client.id), world.machine.secret),
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    description = oauth_error(response, 401, "invalid_client")
    assert f"'{world.machine.client_id}'" in description
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_client_of_another_account_is_unknown_here(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    response = await http.post(
        TOKEN, auth=other.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    oauth_error(response, 401, "invalid_client")


# --- grant selection ------------------------------------------------------------------


async def test_missing_grant_type_is_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    # Section 5.2: invalid_request is "missing a required parameter".
    response = await http.post(TOKEN, auth=world.machine.basic(), data={"scope": "read"})
    description = oauth_error(response, 400, "invalid_request")
    assert "grant_type" in description


async def test_unknown_grant_type_is_unsupported_grant_type(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(TOKEN, auth=world.machine.basic(), data={"grant_type": "magic", "scope": "read"})
    description = oauth_error(response, 400, "unsupported_grant_type")
    assert "'magic'" in description


async def test_unknown_grant_type_after_failed_client_authentication_is_invalid_client(
    http: httpx.AsyncClient, world: World
) -> None:
    """Client authentication comes first: an unauthenticated caller learns nothing more."""
    response = await http.post(TOKEN, auth=(world.machine.client_id, "tss_wrong"), data={"grant_type": "magic"})
    oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize(
    ("client_name", "grant_type"),
    [
        ("machine", "authorization_code"),
        ("machine", "password"),
        ("web", "client_credentials"),
        ("web", "password"),
        ("legacy", "client_credentials"),
    ],
)
async def test_a_grant_the_client_is_not_allowed_is_unauthorized_client(
    http: httpx.AsyncClient, world: World, client_name: str, grant_type: str
) -> None:
    client = getattr(world, client_name)
    response = await http.post(
        TOKEN,
        auth=client.basic(),
        data={"grant_type": grant_type, "scope": "read", "code": "tsc_x", "username": "u", "password": "p"},
    )
    description = oauth_error(response, 400, "unauthorized_client")
    assert grant_type in description


async def test_error_descriptions_fold_characters_rfc_6749_forbids(http: httpx.AsyncClient, world: World) -> None:
    """Section 5.2: the description may hold only %x20-21 / %x23-5B / %x5D-7E; a caller's
    quotes, backslashes, newlines and non-ASCII must not reach it."""
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": 'gr"ant\\type\n\u00e9\u2603', "scope": "read"},
    )
    oauth_error(response, 400, "unsupported_grant_type")


async def test_unknown_client_id_with_forbidden_characters_gives_a_clean_description(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": 'x"y\\z\t\u00fc', "client_secret": "s"},
    )
    oauth_error(response, 401, "invalid_client")


@pytest.mark.parametrize("via", ["form", "json", "basic"])
async def test_a_nul_character_in_client_id_is_refused_with_a_reason(
    http: httpx.AsyncClient, world: World, via: str
) -> None:
    """No parameter may hold NUL (PostgreSQL refuses it in text): a malformed request in the
    body (400 invalid_request), malformed credentials in Basic (401 invalid_client)."""
    client_id = "machine\x00"
    if via == "basic":
        response = await http.post(
            TOKEN,
            headers={"Authorization": basic_header(client_id, "tss_x")},
            data={"grant_type": "client_credentials", "scope": "read"},
        )
    else:
        body = {"grant_type": "client_credentials", "scope": "read", "client_id": client_id, "client_secret": "tss_x"}
        response = await http.post(TOKEN, **({"json": body} if via == "json" else {"data": body}))  # type: ignore[arg-type]
    if via == "basic":
        description = oauth_error(response, 401, "invalid_client")
    else:
        description = oauth_error(response, 400, "invalid_request")
    assert "NUL" in description


@pytest.mark.parametrize("client_id", ["\u00b9", "1\u00b2", "\u2460"])
async def test_a_client_id_of_non_decimal_digits_is_an_unknown_client(
    http: httpx.AsyncClient, world: World, client_id: str
) -> None:
    # str.isdigit() is true for superscripts and circled digits, which int() refuses.
    response = await http.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "tss_x"}
    )
    oauth_error(response, 401, "invalid_client")


async def test_a_content_length_of_non_decimal_digits_is_not_a_server_error(
    http: httpx.AsyncClient, world: World
) -> None:
    # Header bytes are read as Latin-1, so the byte 0xB9 arrives as "\u00b9", which str.isdigit() accepts.
    request = http.build_request(
        "POST",
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": b"\xb9"},
    )
    assert request.headers.raw.count((b"Content-Length", b"\xb9")) == 1, request.headers.raw
    response = await http.send(request)
    assert response.status_code in (400, 401), response.text
