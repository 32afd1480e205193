"""Hostile requests for every endpoint (issue "Bad input": oversized bodies, repeated
parameters, invalid UTF-8 and percent-encoding, non-ASCII everywhere, wrong content types,
JSON of the wrong shape, huge scope strings, NUL bytes, integers past 64 bits), and the
oracle every answer must pass: a well-formed answer, never a 5xx, never a traceback.

Used by tests/http/test_fuzz_every_endpoint.py (a small budget inside `make test`) and by
`make fuzz` (the same strategies, a large budget; docs/reliability.md "Fuzzing").

A request is drawn as plain data naming the world's values (`Real`), and built once the
test's world and credentials exist: drawing inside an anyio test after the fixtures have
run breaks hypothesis' runner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from tessera import paths


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # may hold {id} placeholders
    host: str = "account"  # or "platform"


def _api(method: str, path: str) -> list[Endpoint]:
    """An /api/v2 endpoint; each case draws whether it adds the .json suffix (INTERFACE.md
    section 4: every path works with and without it)."""
    return [Endpoint(f"{method} {path}", method, path)]


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET authorize", "GET", paths.AUTHORIZE),
    Endpoint("POST consent", "POST", paths.AUTHORIZE_DECISION),
    Endpoint("GET login", "GET", paths.LOGIN),
    Endpoint("POST login", "POST", paths.LOGIN),
    Endpoint("GET logout", "GET", paths.LOGOUT),
    Endpoint("POST logout", "POST", paths.LOGOUT),
    Endpoint("POST token", "POST", paths.TOKEN),
    Endpoint("POST device code", "POST", paths.DEVICE_AUTHORIZATION),
    Endpoint("GET device", "GET", paths.DEVICE),
    Endpoint("POST device", "POST", paths.DEVICE),
    Endpoint("POST device decision", "POST", paths.DEVICE_DECISION),
    Endpoint("POST revoke", "POST", paths.REVOKE),
    Endpoint("POST introspect", "POST", paths.INTROSPECT),
    # Pushed authorization requests (RFC 9126).
    Endpoint("POST par", "POST", paths.PAR),
    Endpoint("OPTIONS par", "OPTIONS", paths.PAR),
    Endpoint("GET userinfo", "GET", paths.USERINFO),
    Endpoint("POST userinfo", "POST", paths.USERINFO),
    Endpoint("OPTIONS token", "OPTIONS", paths.TOKEN),
    Endpoint("GET jwks", "GET", paths.JWKS),
    Endpoint("GET discovery", "GET", paths.OPENID_CONFIGURATION),
    Endpoint("GET home", "GET", paths.HOME),
    Endpoint("GET apps", "GET", paths.AUTHORIZED_APPS),
    Endpoint("POST apps revoke", "POST", paths.AUTHORIZED_APPS_REVOKE),
    Endpoint("GET platform chooser", "GET", paths.AUTHORIZE, host="platform"),
    Endpoint("POST platform cancel", "POST", paths.AUTHORIZE_DECISION, host="platform"),
    Endpoint("GET admin", "GET", paths.ADMIN),
    Endpoint("GET admin clients new", "GET", paths.ADMIN_CLIENTS + "/new"),
    Endpoint("POST admin clients", "POST", paths.ADMIN_CLIENTS),
    Endpoint("GET admin client", "GET", paths.ADMIN_CLIENTS + "/{client}"),
    Endpoint("POST admin client", "POST", paths.ADMIN_CLIENTS + "/{client}"),
    Endpoint("POST admin client delete", "POST", paths.ADMIN_CLIENTS + "/{client}/delete"),
    Endpoint("POST admin client secret", "POST", paths.ADMIN_CLIENTS + "/{client}/secret"),
    Endpoint("POST admin app revoke", "POST", paths.ADMIN_APPS + "/{client}/revoke"),
    Endpoint("POST admin users", "POST", paths.ADMIN_USERS),
    Endpoint("POST admin user", "POST", paths.ADMIN_USERS + "/{user}"),
    Endpoint("GET admin tokens", "GET", paths.ADMIN_TOKENS),
    Endpoint("POST admin token revoke", "POST", paths.ADMIN_TOKENS + "/{token}/revoke"),
    Endpoint("GET admin audit", "GET", paths.ADMIN_AUDIT),
    Endpoint("GET admin resources", "GET", paths.ADMIN_RESOURCES),
    Endpoint("POST admin resources", "POST", paths.ADMIN_RESOURCES),
    Endpoint("POST admin resource delete", "POST", paths.ADMIN_RESOURCES + "/{client}/delete"),
    Endpoint("GET resource metadata", "GET", paths.API_RESOURCE_METADATA),
    Endpoint("GET admin registration", "GET", paths.ADMIN_REGISTRATION),
    Endpoint("POST admin registration policy", "POST", paths.ADMIN_REGISTRATION + "/policy"),
    Endpoint("POST admin registration tokens", "POST", paths.ADMIN_REGISTRATION + "/tokens"),
    Endpoint("POST admin registration token revoke", "POST", paths.ADMIN_REGISTRATION + "/tokens/{token}/revoke"),
    # Dynamic client registration (RFC 7591) and its management (RFC 7592).
    Endpoint("POST register", "POST", paths.REGISTER),
    Endpoint("OPTIONS register", "OPTIONS", paths.REGISTER),
    Endpoint("GET registration", "GET", paths.REGISTER + "/{client}"),
    Endpoint("PUT registration", "PUT", paths.REGISTER + "/{client}"),
    Endpoint("DELETE registration", "DELETE", paths.REGISTER + "/{client}"),
    *_api("GET", paths.API_USERS_ME),
    *_api("GET", paths.API_USERS),
    *_api("POST", paths.API_USERS),
    *_api("GET", "/api/v2/users/{user}"),
    *_api("PUT", "/api/v2/users/{user}"),
    *_api("PUT", "/api/v2/users/{user}/password"),
    *_api("GET", paths.API_CLIENTS),
    *_api("POST", paths.API_CLIENTS),
    *_api("GET", "/api/v2/oauth/clients/{client}"),
    *_api("PUT", "/api/v2/oauth/clients/{client}"),
    *_api("DELETE", "/api/v2/oauth/clients/{client}"),
    *_api("PUT", "/api/v2/oauth/clients/{client}/generate_secret"),
    *_api("GET", paths.API_GLOBAL_CLIENTS),
    *_api("GET", "/api/v2/oauth/global_clients/{client}"),
    *_api("DELETE", "/api/v2/oauth/global_clients/{client}"),
    *_api("GET", paths.API_RESOURCES),
    *_api("POST", paths.API_RESOURCES),
    *_api("GET", "/api/v2/oauth/resources/{client}"),
    *_api("DELETE", "/api/v2/oauth/resources/{client}"),
    *_api("GET", paths.API_AUDIT_LOGS),
    *_api("GET", "/api/v2/audit_logs/{audit}"),
    *_api("GET", paths.API_TOKENS),
    *_api("POST", paths.API_TOKENS),
    *_api("GET", "/api/v2/oauth/tokens/{token}"),
    *_api("DELETE", "/api/v2/oauth/tokens/{token}"),
    *_api("GET", paths.API_TICKETS),
    *_api("POST", paths.API_TICKETS),
    *_api("GET", "/api/v2/tickets/{ticket}"),
    *_api("PUT", "/api/v2/tickets/{ticket}"),
    *_api("DELETE", "/api/v2/tickets/{ticket}"),
    *_api("GET", paths.API_OPENAPI),
)
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


@dataclass(frozen=True)
class Real:
    """A value of the running test's world or credentials, looked up when the request is built."""

    name: str


# Integers a 64-bit column cannot hold, and their neighbours.
HUGE = ("9223372036854775807", "9223372036854775808", "18446744073709551616", "1" + "0" * 40, "-9223372036854775809")
HUGE_INTS = (2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**40)
NASTY = (
    "\x00",
    "a\x00b",
    "é",
    "\u202e",
    "\ud7ff",
    "\U0001f600",
    "①",
    "¹",
    "%",
    "%zz",
    "%FF%FE",
    "%00",
    "' OR 1=1 --",
    "<script>",
    " ",
    "",
    "read " * 4000,  # a huge scope string
    "x" * 5000,
    "null",
    "[]",
    "{}",
)
WORDS = (
    "code",
    "token",
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "WDJB-MJHT",
    "read",
    "write",
    "read write",
    "openid offline_access",
    "tickets:read users:write",
    "allow",
    "deny",
    "admin",
    "end-user",
    "agent",
    "true",
    "false",
    "S256",
    "plain",
    "none",
    "login",
    "consent",
    "form_post",
    "access_token",
    "refresh_token",
    "https://app.example.com/callback",
    "http://127.0.0.1/callback",
    "javascript:alert(1)",
    "/admin",
    "//evil.example",
    "http://evil.example/",
    "https://mcp.example.com/mcp#frag",
    "urn:ietf:params:oauth:x",
)
NAMES = (
    # OAuth and OIDC parameters
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "refresh_token",
    "device_code",
    "user_code",
    "username",
    "password",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "response_type",
    "response_mode",
    "expires_in",
    "refresh_token_expires_in",
    "token",
    "token_type_hint",
    "access_token",
    "id_token_hint",
    "post_logout_redirect_uri",
    "login_hint",
    "resource",
    # pages and forms
    "authenticity_token",
    "email",
    "return_to",
    "decision",
    "subdomain",
    "confirm",
    # console forms and API fields
    "name",
    "identifier",
    "kind",
    "redirect_uris",
    "redirect_uri[]",
    "company",
    "description",
    "logo_url",
    "grant_types",
    "allowed_scopes",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "access_token_format",
    "previous_secret_expires_in",
    "role",
    "suspended",
    "subject",
    "priority",
    "status",
    "comment",
    "scopes",
    "uri",
    # listings
    "page[size]",
    "page[after]",
    "all",
    "user_id",
    "global_client_id",
    "filter[action]",
    "filter[actor_id]",
    "filter[source_type]",
    "filter[created_at][]",
    "action",
    "actor",
)
REALS = (
    "web.client_id",
    "spa.client_id",
    "web.secret",
    "machine.secret",
    "web.id",
    "admin.id",
    "user.id",
    "admin.email",
    "password",
    "csrf",
    "login_csrf",
    "access_token",
    "refresh_token",
    "id_token",
    "token.id",
    "ticket.id",
    "audit.id",
    "subdomain",
    "dyn.client_id",
)

reals = st.sampled_from(REALS).map(Real)
text = st.text(max_size=30)
values = st.one_of(reals, st.sampled_from(WORDS + HUGE + NASTY), text, st.integers().map(str))
names = st.sampled_from(NAMES) | text


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(HUGE_INTS),
        st.floats(),
        values,
    )
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=4))


# Repeated names are drawn on purpose: a parameter sent twice must be refused, not guessed at.
pairs = st.lists(st.tuples(names, values), max_size=8)

# What goes in a {placeholder} of a path: a real id, the word "current", or garbage.
path_ids = st.one_of(
    reals,
    st.sampled_from(("current", "0", "-1", "1.5", "%00", "%FF", "é", "1e3", "①", *HUGE)),
    st.integers().map(str),
    text,
)

CONTENT_TYPES = (
    None,
    "application/x-www-form-urlencoded",
    "application/json",
    "application/json; charset=latin-1",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/x-www-form-urlencoded; charset=utf-16",
    "*/*",
    "ç/ä",
)
# The wrapper objects of the management API's bodies (INTERFACE.md section 6).
MEMBERS = ("client", "user", "token", "ticket")

bodies = st.one_of(
    st.just(("empty", None)),
    st.tuples(st.just("form"), pairs),
    st.tuples(st.just("json"), st.dictionaries(st.sampled_from(MEMBERS), json_values(), max_size=2)),
    st.tuples(
        st.just("json"),
        st.sampled_from(MEMBERS).flatmap(
            lambda m: st.fixed_dictionaries({m: st.dictionaries(names, json_values(), max_size=6)})
        ),
    ),
    st.tuples(st.just("json"), json_values()),
    st.tuples(st.just("raw"), st.binary(max_size=200)),
    # Past the 64 KiB body limit, and past the 100-field limit.
    st.tuples(st.just("raw"), st.sampled_from((65_537, 200_000)).map(lambda n: b"a=" + b"b" * n)),
    st.tuples(st.just("form"), st.just([("scope", "read")] * 150)),
)
queries = st.one_of(
    st.tuples(st.just("pairs"), pairs),
    # Raw bytes: invalid UTF-8, broken percent-escapes, stray separators.
    st.tuples(
        st.just("raw"),
        st.lists(
            st.sampled_from((b"%", b"%F", b"%FF", b"%C3%28", b"%ED%A0%80", b"=", b"&", b";", b"+", b"a", b"scope")),
            max_size=12,
        ).map(b"".join),
    ),
)
# How the caller presents itself: the admin's or end user's session (with or without the
# CSRF token), a bearer token, a client's Basic credentials, garbage, or nothing.
CALLERS = (
    "nothing",
    "none",
    "admin_session",
    "user_session",
    "admin_bearer",
    "user_bearer",
    "client_basic",
    "garbage",
    "registration_bearer",  # the registration access token of a client that registered itself
)
garbage_headers = st.dictionaries(
    st.sampled_from(("Authorization", "Cookie", "X-CSRF-Token", "Origin", "Accept", "X-Forwarded-For")),
    st.binary(max_size=60).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"")),
    max_size=3,
)


# Well-formed requests per endpoint, each field of which a case may replace with something
# hostile: garbage that is almost right gets past the first checks to the code behind them.
R = Real
JSON_SHAPES: dict[str, dict[str, Any]] = {
    "POST /api/v2/oauth/resources": {"resource": {"uri": "https://mcp.example.com/mcp", "scopes": ["tickets:read"]}},
    "POST /api/v2/oauth/tokens": {"token": {"client_id": R("web.id#"), "scopes": ["read"], "expires_in": 600}},
    "POST /api/v2/oauth/clients": {
        "client": {
            "name": "Fuzz",
            "identifier": "fuzz",
            "redirect_uri": ["https://fuzz.example/cb"],
            "kind": "confidential",
        }
    },
    "PUT /api/v2/oauth/clients/{client}": {"client": {"name": "Renamed", "access_token_lifetime": 3600}},
    "PUT /api/v2/oauth/clients/{client}/generate_secret": {"previous_secret_expires_in": 60},
    "POST /api/v2/users": {"user": {"name": "Fuzz", "email": "fuzz@example.com", "role": "end-user"}},
    "PUT /api/v2/users/{user}": {"user": {"name": "Renamed", "role": "end-user", "suspended": False}},
    "PUT /api/v2/users/{user}/password": {"password": "a long enough password"},
    "POST /api/v2/tickets": {"ticket": {"subject": "Printer", "comment": {"body": "On fire"}, "priority": "high"}},
    "PUT /api/v2/tickets/{ticket}": {"ticket": {"subject": "Printer", "status": "solved"}},
    "POST register": {
        "client_name": "Fuzz Agent",
        "redirect_uris": ["https://fuzz.example/cb", "http://127.0.0.1/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "read",
        "logo_uri": "https://fuzz.example/logo.png",
        "contacts": ["fuzz@example.com"],
    },
    "PUT registration": {
        "client_id": R("dyn.client_id"),
        "client_name": "Fuzz Agent",
        "redirect_uris": ["https://fuzz.example/cb"],
        "grant_types": ["authorization_code"],
        "token_endpoint_auth_method": "client_secret_basic",
    },
}
_CLIENT_FORM = [
    ("authenticity_token", R("csrf")),
    ("name", "Fuzz"),
    ("identifier", "fuzz"),
    ("kind", "confidential"),
    ("redirect_uri", "https://fuzz.example/cb"),
    ("grant_types", "authorization_code"),
    ("access_token_format", "opaque"),
    ("access_token_lifetime", "3600"),
]
FORM_SHAPES: dict[str, list[tuple[str, Any]]] = {
    "POST admin registration policy": [("authenticity_token", R("csrf")), ("policy", "open")],
    "POST admin registration tokens": [("authenticity_token", R("csrf")), ("expires_in", "3600")],
    "POST token": [
        ("grant_type", "authorization_code"),
        ("client_id", R("web.client_id")),
        ("client_secret", R("web.secret")),
        ("code", R("access_token")),
        ("redirect_uri", "https://app.example.com/callback"),
        ("scope", "read"),
    ],
    "POST device code": [
        ("client_id", R("spa.client_id")),
        ("scope", "read openid"),
    ],
    "POST device": [("authenticity_token", R("csrf")), ("user_code", "WDJB-MJHT")],
    "POST device decision": [
        ("authenticity_token", R("csrf")),
        ("user_code", "wdjb mjht"),
        ("decision", "allow"),
    ],
    "POST revoke": [
        ("client_id", R("web.client_id")),
        ("client_secret", R("web.secret")),
        ("token", R("refresh_token")),
        ("token_type_hint", "refresh_token"),
    ],
    "POST par": [
        ("client_id", R("web.client_id")),
        ("client_secret", R("web.secret")),
        ("response_type", "code"),
        ("redirect_uri", "https://app.example.com/callback"),
        ("scope", "read openid"),
        ("state", "s"),
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM"),
        ("code_challenge_method", "S256"),
    ],
    "POST introspect": [
        ("client_id", R("web.client_id")),
        ("client_secret", R("web.secret")),
        ("token", R("access_token")),
    ],
    "POST login": [
        ("authenticity_token", R("login_csrf")),
        ("email", R("admin.email")),
        ("password", R("password")),
        ("return_to", "/admin"),
    ],
    "POST platform cancel": [
        ("decision", "cancel"),
        ("client_id", R("web.client_id")),
        ("redirect_uri", "https://app.example.com/callback"),
        ("response_type", "code"),
        ("response_mode", "form_post"),
        ("state", "s"),
        ("ui_locales", "ja"),
    ],
    "POST consent": [
        ("authenticity_token", R("csrf")),
        ("decision", "allow"),
        ("client_id", R("web.client_id")),
        ("redirect_uri", "https://app.example.com/callback"),
        ("response_type", "code"),
        ("scope", "read"),
        ("state", "s"),
    ],
    "POST logout": [
        ("authenticity_token", R("csrf")),
        ("id_token_hint", R("id_token")),
        ("post_logout_redirect_uri", "https://app.example.com/callback"),
        ("client_id", R("web.client_id")),
    ],
    "POST userinfo": [("access_token", R("access_token"))],
    "POST apps revoke": [("authenticity_token", R("csrf")), ("client_id", R("web.id"))],
    "POST admin clients": _CLIENT_FORM,
    "POST admin client": _CLIENT_FORM,
    "POST admin client delete": [("authenticity_token", R("csrf"))],
    "POST admin client secret": [("authenticity_token", R("csrf")), ("previous_secret_expires_in", "60")],
    "POST admin app revoke": [("authenticity_token", R("csrf"))],
    "POST admin users": [
        ("authenticity_token", R("csrf")),
        ("name", "Fuzz"),
        ("email", "fuzz@example.com"),
        ("role", "end-user"),
    ],
    "POST admin user": [("authenticity_token", R("csrf")), ("name", "Renamed"), ("role", "end-user")],
    "POST admin token revoke": [("authenticity_token", R("csrf"))],
    "POST admin resources": [
        ("authenticity_token", R("csrf")),
        ("uri", "https://mcp.example.com/mcp"),
        ("name", "Fuzz"),
        ("scopes", "tickets:read"),
    ],
    "POST admin resource delete": [("authenticity_token", R("csrf"))],
}
_LISTING = [("page[size]", "2"), ("page[after]", "1"), ("all", "true"), ("client_id", R("web.id"))]
QUERY_SHAPES: dict[str, list[tuple[str, Any]]] = {
    "GET authorize": [
        ("response_type", "code"),
        ("client_id", R("web.client_id")),
        ("redirect_uri", "https://app.example.com/callback"),
        ("scope", "openid read"),
        ("state", "s"),
        ("nonce", "n"),
        ("prompt", "none"),
        ("max_age", "60"),
    ],
    "GET platform chooser": [
        ("client_id", R("web.client_id")),
        ("response_type", "code"),
        ("subdomain", R("subdomain")),
    ],
    "GET logout": [
        ("id_token_hint", R("id_token")),
        ("post_logout_redirect_uri", "https://app.example.com/callback"),
        ("state", "s"),
    ],
    "GET login": [("return_to", "/oauth/authorizations/new?client_id=x")],
    "GET device": [("user_code", "WDJB-MJHT")],
    "GET userinfo": [("access_token", R("access_token"))],
    "GET /api/v2/oauth/tokens": [*_LISTING, ("global_client_id", R("web.id")), ("user_id", R("admin.id"))],
    "GET /api/v2/users": _LISTING,
    "GET /api/v2/oauth/clients": _LISTING,
    "GET /api/v2/tickets": _LISTING,
    "GET /api/v2/audit_logs": [
        ("filter[action]", "create"),
        ("filter[actor_id]", R("admin.id")),
        ("filter[created_at][]", "2020-01-01T00:00:00Z"),
        ("filter[created_at][]", "2030-01-01T00:00:00Z"),
        ("page[size]", "1"),
    ],
    "GET admin tokens": [("client_id", R("web.id")), ("user_id", R("admin.id")), ("after", "1")],
    "GET admin audit": [("action", "create"), ("actor", R("admin.id")), ("from", "2020-01-01"), ("to", "2030-01-01")],
}


def _mutated_json(template: Any) -> st.SearchStrategy[Any]:
    """`template` with any of its values (at any depth) possibly replaced by a hostile one."""
    if isinstance(template, dict):
        return st.fixed_dictionaries(
            {k: _mutated_json(v) for k, v in template.items()},
            optional={k: json_values() for k in ("client_id", "scopes", "id") if k not in template},
        )
    hostile = json_values()
    if isinstance(template, (int, Real)):
        hostile = st.one_of(st.sampled_from(HUGE_INTS), hostile)  # ids and lifetimes past 64 bits
    return st.one_of(st.just(template), st.just(template), hostile)


def _mutated_pairs(template: list[tuple[str, Any]]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """Each pair kept, dropped, or given a hostile value; and some pairs sent twice."""
    one = [
        st.one_of(
            st.just([(k, v)]),
            st.just([(k, v)]),
            st.just([]),
            values.map(lambda x, k=k: [(k, x)]),
            st.just([(k, v), (k, v)]),
        )
        for k, v in template
    ]
    return st.tuples(*one).map(lambda parts: [pair for part in parts for pair in part])


def draws_for(endpoint: Endpoint) -> st.SearchStrategy[Draw]:
    """Hostile requests for `endpoint`: shaped ones (most of the time when it has a shape), and
    the generic ones."""
    body = bodies
    if endpoint.name in JSON_SHAPES:
        body = st.one_of(st.tuples(st.just("json"), _mutated_json(JSON_SHAPES[endpoint.name])), bodies)
    elif endpoint.name in FORM_SHAPES:
        body = st.one_of(st.tuples(st.just("form"), _mutated_pairs(FORM_SHAPES[endpoint.name])), bodies)
    query = queries
    if endpoint.name in QUERY_SHAPES:
        query = st.one_of(st.tuples(st.just("pairs"), _mutated_pairs(QUERY_SHAPES[endpoint.name])), queries)
    shaped_type = "application/json" if endpoint.name in JSON_SHAPES else "application/x-www-form-urlencoded"
    return st.builds(
        Draw,
        placeholders=st.tuples(path_ids),
        query=query,
        body=body,
        content_type=st.one_of(st.just(shaped_type), st.sampled_from(CONTENT_TYPES)),
        # Often the admin: most shaped requests need one to get past the first check.
        caller=st.one_of(st.sampled_from(("admin_bearer", "admin_session")), st.sampled_from(CALLERS)),
        with_csrf=st.booleans(),
        extra_headers=st.one_of(st.just({}), st.just({}), garbage_headers),
    )


@dataclass(frozen=True)
class Draw:
    """One hostile request, as data."""

    placeholders: tuple[Any, ...]
    query: tuple[str, Any]
    body: tuple[str, Any]
    content_type: str | None
    caller: str
    with_csrf: bool
    extra_headers: dict[str, bytes]


@dataclass
class Credentials:
    """What a fuzz run knows of its world: the values `Real` names, and the caller headers."""

    values: dict[str, Any]
    headers: dict[str, dict[str, str]]


def resolve(credentials: Credentials, value: Any) -> Any:
    if isinstance(value, Real):
        return credentials.values[value.name]
    if isinstance(value, list):
        return [resolve(credentials, v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(credentials, v) for v in value)
    if isinstance(value, dict):
        return {resolve(credentials, k): resolve(credentials, v) for k, v in value.items()}
    return value


def _form(pairs_: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs_).encode()


def build(endpoint: Endpoint, draw: Draw, credentials: Credentials, origin: str) -> httpx.Request:
    path = endpoint.path
    for placeholder in ("{client}", "{user}", "{token}", "{ticket}", "{audit}"):
        if placeholder in path:
            path = path.replace(placeholder, quote(str(resolve(credentials, draw.placeholders[0])), safe="%"))
    kind, query = draw.query
    raw_query = query if kind == "raw" else _form([(str(k), str(v)) for k, v in resolve(credentials, query)])
    raw_path = path.encode() + (b"?" + raw_query if raw_query else b"")
    headers: dict[str, Any] = dict(credentials.headers[draw.caller])
    if draw.with_csrf and draw.caller.endswith("session"):
        headers["X-CSRF-Token"] = credentials.values["csrf." + draw.caller]
    headers.update(draw.extra_headers)
    if draw.content_type is not None:
        headers["Content-Type"] = draw.content_type.encode()
    body_kind, body = draw.body
    content: bytes | None = None
    if body_kind == "form":
        content = _form([(str(k), str(v)) for k, v in resolve(credentials, body)])
    elif body_kind == "json":
        content = json.dumps(resolve(credentials, body)).encode()
    elif body_kind == "raw":
        content = body
    host = origin.split("://", 1)[1]
    if endpoint.host == "platform":
        host = host.split(".", 1)[1]
    url = httpx.URL(scheme="http", host=host, raw_path=raw_path)
    return httpx.Request(endpoint.method, url, headers=headers, content=content)


def assert_well_formed(response: httpx.Response) -> None:
    """The oracle: no server error, no traceback, and a body that is what it says it is."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    content_type = response.headers.get("content-type", "")
    if response.status_code >= 400:
        assert content_type, response.headers
    if content_type.startswith("application/json") and response.content:
        json.loads(response.content)
    if response.status_code in (301, 302, 303, 307, 308):
        assert "location" in response.headers
