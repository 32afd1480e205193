"""Property tests of the endpoints clients and browsers reach first: whatever arrives, the
answer is well-formed and never a server error.

- POST /oauth/tokens: an RFC 6749 section 5.2 error (JSON object, `error` in the section's
  set, status 400, or 401 for invalid_client) or a section 5.1 success.
- GET /oauth/authorizations/new: a 400 HTML page (client or redirect URI not trusted,
  RFC 6749 section 4.1.2.1), an error sent back to a registered redirect URI with `iss`
  (RFC 9207), or the login page.

The strategies mix the world's real identifiers, secrets and redirect URIs into random
values so that examples get past client authentication and reach the grant handlers.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.settings import Settings
from tests.support import PASSWORD, RegisteredClient, World, forms, fragment_of, pkce_pair, query_of

pytestmark = pytest.mark.anyio


@pytest.fixture(name="settings")
def unthrottled_settings(settings: Settings) -> Settings:
    """A suite that fails on purpose from one address runs with the throttles off
    (INTERFACE.md section 9, TESSERA_THROTTLE=0), so the examples reach the grant handlers."""
    return settings.with_overrides(throttle=False)


TOKEN = "/oauth/tokens"
AUTHORIZE = "/oauth/authorizations/new"
# RFC 6749 section 5.2.
RFC_6749_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)
DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TOKEN_PARAMS = (
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "username",
    "password",
    "scope",
    "expires_in",
    "refresh_token_expires_in",
    "device_code",
)
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "prompt",
    "max_age",
    "response_mode",
    "login_hint",
)
GRANT_TYPES = (
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
)
SCOPES = ("read", "write", "read write", "openid", "offline_access", "tickets:read", "users", "bogus", "read  write")
LIFETIMES = ("299", "300", "1800", "172800", "172801", "604800", "7776000", "-1", "1e3", "99999999999999")


# Any text, NUL and non-decimal Unicode digits included (both once gave 500s).
text = st.text(max_size=40)
printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)
_VERIFIER, _CHALLENGE = pkce_pair()


@dataclass(frozen=True)
class Real:
    """A value of the test's world, named in the strategy and looked up in the test: the
    world exists only once the fixtures have run, and drawing inside an anyio test after
    that breaks hypothesis' runner."""

    name: str

    def value(self, world: World) -> str:
        return WORLD_VALUES[self.name](world)


def _secret(client: RegisteredClient) -> str:
    assert client.secret is not None
    return client.secret


WORLD_VALUES: dict[str, Callable[[World], str]] = {
    "web.client_id": lambda w: w.web.client_id,
    "spa.client_id": lambda w: w.spa.client_id,
    "machine.client_id": lambda w: w.machine.client_id,
    "legacy.client_id": lambda w: w.legacy.client_id,
    "web.id": lambda w: str(w.web.client.id),
    "machine.id": lambda w: str(w.machine.client.id),
    "web.secret": lambda w: _secret(w.web),
    "machine.secret": lambda w: _secret(w.machine),
    "legacy.secret": lambda w: _secret(w.legacy),
    "web.redirect_uri": lambda w: w.web.client.redirect_uris[0],
    "web.loopback_uri": lambda w: w.web.client.redirect_uris[1],
    "spa.redirect_uri": lambda w: w.spa.redirect_uri,
    "legacy.redirect_uri": lambda w: w.legacy.redirect_uri,
    "user.email": lambda w: w.user.email,
    "admin.email": lambda w: w.admin.email,
    "password": lambda w: PASSWORD,
    "verifier": lambda w: _VERIFIER,
    "challenge": lambda w: _CHALLENGE,
    "loopback_with_port": lambda w: "http://127.0.0.1:9999/callback",
    "code": lambda w: "tsc_" + "A" * 43,
    "refresh_token": lambda w: "tsr_" + "A" * 43,
    "access_token": lambda w: "tsa_" + "A" * 43,
}
CLIENT_IDS = ("web.client_id", "spa.client_id", "machine.client_id", "legacy.client_id", "web.id", "machine.id")
SECRETS = ("web.secret", "machine.secret", "legacy.secret")


def real(world: World, value: Any) -> Any:
    """`value` with every Real replaced by the world's value."""
    if isinstance(value, Real):
        return value.value(world)
    if isinstance(value, list):
        return [real(world, v) for v in value]
    if isinstance(value, tuple):
        return tuple(real(world, v) for v in value)
    if isinstance(value, dict):
        return {real(world, k): real(world, v) for k, v in value.items()}
    return value


reals = st.sampled_from(sorted(WORLD_VALUES)).map(Real)
param_values = st.one_of(reals, st.sampled_from(GRANT_TYPES + SCOPES + LIFETIMES), text, st.integers().map(str))


def pairs(names: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(st.sampled_from(names) | text, param_values), max_size=8)


def _basic(pair: tuple[str, str]) -> bytes:
    return b"Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode())


# An Authorization header: the bytes, or ("credentials", id, secret) naming world values.
authorization_specs = st.one_of(
    st.tuples(st.just("credentials"), st.sampled_from(CLIENT_IDS).map(Real), st.sampled_from(SECRETS).map(Real)),
    st.tuples(st.just("credentials"), reals | text, reals | text),
    st.one_of(
        st.binary(max_size=60).map(lambda raw: b"Basic " + base64.b64encode(raw)),
        st.tuples(st.sampled_from(["Basic", "basic", "Bearer", "Digest", ""]), printable).map(
            lambda pair: f"{pair[0]} {pair[1]}".encode()
        ),
        st.binary(max_size=80).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    ),
)


def authorization_header(world: World, spec: bytes | tuple[Any, ...]) -> bytes:
    if isinstance(spec, bytes):
        return spec
    return _basic(real(world, (spec[1], spec[2])))


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text, reals)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3))


def assert_token_answer(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    if response.status_code == 200:
        assert isinstance(body["access_token"], str)
        assert body["token_type"] == "bearer"
        return
    assert response.status_code in (400, 401), (response.status_code, body)
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] in RFC_6749_ERRORS, body
    assert isinstance(body["error_description"], str)
    assert DESCRIPTION.match(body["error_description"]), body["error_description"]
    # INTERFACE.md: invalid_client is always 401, and only invalid_client is.
    assert (response.status_code == 401) == (body["error"] == "invalid_client"), (response.status_code, body)


def with_authorization(world: World, headers: dict[str, Any], spec: bytes | tuple[Any, ...] | None) -> dict[str, Any]:
    if spec is not None:
        headers["Authorization"] = authorization_header(world, spec)
    return headers


@FUZZ
@given(
    body=pairs(TOKEN_PARAMS) | st.binary(max_size=200),
    authorization=st.none() | authorization_specs,
)
async def test_token_endpoint_form_bodies(
    http: httpx.AsyncClient,
    world: World,
    body: list[tuple[str, Any]] | bytes,
    authorization: bytes | tuple[Any, ...] | None,
) -> None:
    content = body if isinstance(body, bytes) else urlencode(real(world, body)).encode()
    headers = with_authorization(world, {"Content-Type": "application/x-www-form-urlencoded"}, authorization)
    assert_token_answer(await http.post(TOKEN, content=content, headers=headers))


@FUZZ
@given(
    document=st.dictionaries(st.sampled_from(TOKEN_PARAMS) | text, param_values | json_values(), max_size=8)
    | json_values(),
    authorization=st.none() | authorization_specs,
)
async def test_token_endpoint_json_bodies(
    http: httpx.AsyncClient, world: World, document: Any, authorization: bytes | tuple[Any, ...] | None
) -> None:
    content = json.dumps(real(world, document)).encode()
    headers = with_authorization(world, {"Content-Type": "application/json"}, authorization)
    assert_token_answer(await http.post(TOKEN, content=content, headers=headers))


@FUZZ
@given(authorization=authorization_specs, grant_type=st.sampled_from(GRANT_TYPES))
async def test_token_endpoint_authorization_headers(
    http: httpx.AsyncClient, world: World, authorization: bytes | tuple[Any, ...], grant_type: str
) -> None:
    form = {"grant_type": grant_type, "scope": "read", "code": "tsc_x", "username": "u", "password": "p"}
    response = await http.post(TOKEN, data=form, headers=with_authorization(world, {}, authorization))
    assert_token_answer(response)


@FUZZ
@given(
    client=st.sampled_from(["web", "machine", "legacy"]),
    grant_type=st.sampled_from(GRANT_TYPES) | text,
    params=st.dictionaries(st.sampled_from(TOKEN_PARAMS[3:]), param_values, max_size=3),
    as_json=st.booleans(),
)
async def test_token_endpoint_authenticated_client_with_garbage(
    http: httpx.AsyncClient, world: World, client: str, grant_type: str, params: dict[str, Any], as_json: bool
) -> None:
    """Past client authentication: the grant handlers see the garbage."""
    registered: RegisteredClient = getattr(world, client)
    body = {"grant_type": grant_type, "scope": "read", **real(world, params)}
    if as_json:
        response = await http.post(TOKEN, auth=registered.basic(), json=body)
    else:
        response = await http.post(TOKEN, auth=registered.basic(), data=body)
    assert_token_answer(response)


def registered_target(world: World, client_id: str | None, location: str) -> bool:
    """Whether `location` goes to a redirect URI registered for the client named client_id
    (the port of a loopback URI may vary, RFC 8252 section 7.3)."""
    clients = {c.client_id: c for c in (world.web, world.spa, world.machine, world.legacy)}
    client = clients.get(client_id or "")
    if client is None:
        return False
    parts = urlsplit(location)
    netloc = parts.hostname if parts.hostname == "127.0.0.1" else parts.netloc
    return f"{parts.scheme}://{netloc}{parts.path}" in client.client.redirect_uris


def assert_authorize_answer(world: World, params: dict[str, str], response: httpx.Response) -> None:
    assert response.status_code != 500, response.text
    assert "Traceback" not in response.text
    client_id = params.get("client_id")
    if response.status_code == 400:
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["x-frame-options"] == "DENY"
        assert "location" not in response.headers
        return
    if response.status_code in (302, 303):
        location = response.headers["location"]
        if location.startswith("/access/login?"):
            return
        # RFC 6749 section 4.1.2.1: never a redirect to a URI that is not registered.
        assert registered_target(world, client_id, location), (params, location)
        answer = fragment_of(location) if "#" in location else query_of(location)
        assert "error" in answer, (params, location)
        assert answer["iss"] == world.origin
        return
    # form_post (OAuth 2.0 Form Post Response Mode): a self-submitting form to the client.
    assert response.status_code == 200, (response.status_code, params)
    form = next(f for f in forms(response.text) if f.method == "post")
    assert registered_target(world, client_id, form.action), (params, form.action)
    assert "error" in form.fields, form.fields
    assert form.fields["iss"] == world.origin


authorize_values = st.one_of(
    reals,
    st.sampled_from(
        [
            "code",
            "token",
            "code id_token",
            "none",
            "login",
            "consent",
            "select_account",
            "none login",
            "query",
            "fragment",
            "form_post",
            "jwt",
            "S256",
            "plain",
            "0",
            "-1",
            *SCOPES,
        ]
    ),
    text,
)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(AUTHORIZE_PARAMS) | text, authorize_values, max_size=8))
async def test_authorization_endpoint_query_parameters(
    http: httpx.AsyncClient, world: World, params: dict[str, Any]
) -> None:
    query = real(world, params)
    response = await http.get(AUTHORIZE, params=query)
    assert_authorize_answer(world, query, response)


@FUZZ
@given(
    client=st.sampled_from(["web", "spa", "legacy"]),
    params=st.dictionaries(st.sampled_from(AUTHORIZE_PARAMS[2:]) | text, authorize_values, max_size=3),
)
async def test_authorization_endpoint_with_a_valid_client_and_garbage(
    http: httpx.AsyncClient, world: World, client: str, params: dict[str, Any]
) -> None:
    registered: RegisteredClient = getattr(world, client)
    query = {
        "client_id": registered.client_id,
        "redirect_uri": registered.redirect_uri,
        "response_type": "code",
        "scope": "read",
        "code_challenge": _CHALLENGE,
        "code_challenge_method": "S256",
        **real(world, params),
    }
    response = await http.get(AUTHORIZE, params=query)
    assert_authorize_answer(world, query, response)


@FUZZ
@given(raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#"), max_size=120))
async def test_authorization_endpoint_raw_query_strings(http: httpx.AsyncClient, world: World, raw: str) -> None:
    """Undecodable percent-escapes and stray separators: still a page or a redirect."""
    response = await http.get(f"{AUTHORIZE}?client_id={world.web.client_id}&{raw}")
    assert response.status_code != 500
    assert "Traceback" not in response.text
    if response.status_code == 400:
        assert response.headers["content-type"].startswith("text/html")
    else:
        assert response.status_code in (200, 302, 303), response.status_code


@pytest.mark.parametrize("client_id", ["web\x00", "\x00"])
async def test_authorization_endpoint_nul_in_client_id_is_a_page(
    http: httpx.AsyncClient, world: World, request: pytest.FixtureRequest, client_id: str
) -> None:
    response = await http.get(AUTHORIZE, params={"client_id": client_id, "response_type": "code"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("client_id", ["\u00b9", "\u2460"])
async def test_authorization_endpoint_non_decimal_digit_client_id_is_a_page(
    http: httpx.AsyncClient, world: World, client_id: str
) -> None:
    response = await http.get(AUTHORIZE, params={"client_id": client_id, "response_type": "code"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
