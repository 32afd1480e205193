"""Client metadata of dynamic registration: RFC 7591 sections 2 and 3.2, RFC 7592 section 3.

A registration request is read into the same Draft an admin's client is (client_rules.py),
so one rule set decides what a client may be; on top of it come the limits of a client
that registered itself: the authorization code grant (with refresh tokens) and the `code`
response type only, PKCE always (protocol/authorization.py), and redirect URIs that are
https or loopback. Problems become RFC 7591 section 3.2.2 errors naming the field as the
RFC names it.

Fields Tessera keeps: client_name, redirect_uris, logo_uri, scope, grant_types,
response_types, token_endpoint_auth_method, jwks (the public key set of a client that
authenticates with private_key_jwt, RFC 7523; jwks_uri is refused: Tessera fetches no keys),
require_pushed_authorization_requests (RFC 9126 section 6), dpop_bound_access_tokens (RFC 9449
section 5.2: tokens only with a DPoP proof), id_token_signed_response_alg (OpenID Connect
Dynamic Client Registration section 2). RFC 7591 section 2 lets a server ignore
metadata it does not support; client_uri, tos_uri, policy_uri, contacts, software_id and
software_version are checked for their type and then not kept, and every other field is
ignored. The response (registration_response.py) echoes exactly what was kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tessera.management.client_rules import Draft
from tessera.management.errors import Invalid
from tessera.model import SIGNING_ALGS
from tessera.protocol import device_authorization, redirect_uri
from tessera.protocol.errors import InvalidClientMetadata, InvalidRedirectUri, InvalidRequest, OAuthError, echo

NONE, BASIC, POST = "none", "client_secret_basic", "client_secret_post"
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = (NONE, BASIC, POST, PRIVATE_KEY_JWT)
GRANTS = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
# Checked for their type, not kept (see the module's docstring).
_URIS_NOT_KEPT = ("client_uri", "tos_uri", "policy_uri")
_STRINGS_NOT_KEPT = ("software_id", "software_version")
# What a client may not send in an update (RFC 7592 section 2.2): the server's own fields.
SERVER_FIELDS = (
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
)
# Our field names (client_rules.py) as RFC 7591 section 2 names them.
RFC_NAMES = {
    "name": "client_name",
    "logo_url": "logo_uri",
    "allowed_scopes": "scope",
    "redirect_uri": "redirect_uris",
    "kind": "token_endpoint_auth_method",
}


@dataclass(frozen=True, slots=True)
class Metadata:
    """A registration request, read: the client's draft and its authentication method."""

    draft: Draft
    auth_method: str


def _string(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string")
    return value


def _strings(body: dict[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or len(value) > 100:
        raise InvalidClientMetadata(f"{name} must be an array of at most 100 strings")
    return tuple(value)


def _boolean(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidClientMetadata(f"{name} must be true or false")
    return value


def _not_kept(body: dict[str, Any]) -> None:
    for name in (*_URIS_NOT_KEPT, *_STRINGS_NOT_KEPT):
        _string(body, name)
    _strings(body, "contacts", ())


# RFC 8628 section 7.2 registers the device grant by its URN, which is what RFC 7591
# metadata carries; Tessera's own name for it (the CLI's, the console's) is device_code.
URNS = {"device_code": device_authorization.GRANT_TYPE}
_NAMES = {urn: name for name, urn in URNS.items()}


def _grants(body: dict[str, Any], granted: tuple[str, ...]) -> tuple[str, ...]:
    """RFC 7591 section 2: grant_types defaults to authorization_code, response_types to
    code, and the two must agree (section 2.1). `granted`: grants the client already has
    (an admin may have given it more than a client may ask for), which it may keep."""
    grant_types = tuple(_NAMES.get(g, g) for g in _strings(body, "grant_types", ("authorization_code",)))
    refused = [g for g in grant_types if g not in GRANTS and g not in granted]
    if refused:
        raise InvalidClientMetadata(
            f"grant_types: {echo(refused[0])} is not allowed for a client that registers itself; "
            f"use {' and '.join(GRANTS)} (an admin can create other clients)"
        )
    if "authorization_code" not in grant_types:
        raise InvalidClientMetadata("grant_types must include authorization_code")
    response_types = _strings(body, "response_types", RESPONSE_TYPES)
    if not response_types or any(r not in RESPONSE_TYPES for r in response_types):
        raise InvalidClientMetadata('response_types may only be ["code"] (RFC 7591 section 2.1)')
    return tuple(dict.fromkeys(grant_types))


def _auth_method(body: dict[str, Any]) -> str:
    # RFC 7591 section 2: "If unspecified or omitted, the default is client_secret_basic".
    method = _string(body, "token_endpoint_auth_method", BASIC) or BASIC
    if method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method {echo(method)} is not supported; use one of: {', '.join(AUTH_METHODS)}"
        )
    return method


def _jwks(body: dict[str, Any], method: str) -> str | None:
    """RFC 7591 section 2: jwks, the client's public keys "passed by value"; required with
    private_key_jwt (its keys verify the assertions) and meaningless otherwise."""
    if body.get("jwks_uri") is not None:
        raise InvalidClientMetadata(
            "jwks_uri is not supported: send the public key set itself as jwks (RFC 7591 section 2)"
        )
    jwks = body.get("jwks")
    if method != PRIVATE_KEY_JWT:
        if jwks is not None:
            raise InvalidClientMetadata("jwks is used only with token_endpoint_auth_method private_key_jwt")
        return None
    if not isinstance(jwks, dict):
        raise InvalidClientMetadata(
            'token_endpoint_auth_method private_key_jwt needs jwks, a JSON object {"keys": [...]} of public keys'
        )
    return json.dumps(jwks)


def _redirect_uris(body: dict[str, Any]) -> tuple[str, ...]:
    uris = _strings(body, "redirect_uris", ())
    if not any(uri.strip() for uri in uris):
        # A registered client always has the authorization_code grant, whose answer goes there.
        raise InvalidRedirectUri(
            "redirect_uris must list at least one redirect URI: the authorization code is sent there "
            "(RFC 7591 section 2)"
        )
    for uri in uris:
        reason = redirect_uri.problem(uri)
        if reason is not None:
            raise InvalidRedirectUri(f"redirect_uris: {echo(uri, 120)}: {reason}")
        if not redirect_uri.https_or_loopback(uri):
            raise InvalidRedirectUri(
                f"redirect_uris: {echo(uri)} is not allowed for a client that registers itself: "
                "use https, or http on a loopback address (RFC 8252 section 7.3)"
            )
    return uris


def _logo_uri(body: dict[str, Any]) -> str:
    """RFC 7591 section 2: logo_uri, shown on the consent page; https only, as the page is."""
    logo = _string(body, "logo_uri")
    if not logo:
        return logo
    try:
        parts = urlsplit(logo)
    except ValueError:  # a malformed host or port
        parts = None
    if parts is None or parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in logo):
        raise InvalidClientMetadata(f"logo_uri {echo(logo, 120)} must be an absolute https URL, or left out")
    return logo


def _signing_alg(body: dict[str, Any]) -> str:
    """OpenID Connect Dynamic Client Registration 1.0 section 2, id_token_signed_response_alg:
    the algorithm of the client's ID tokens, one of those discovery lists. Without it,
    ES256, as for every client (docs/registration.md)."""
    alg = body.get("id_token_signed_response_alg")
    if alg is None:
        return "ES256"
    if alg not in SIGNING_ALGS:
        raise InvalidClientMetadata(
            f"id_token_signed_response_alg {echo(str(alg), 40)} is not supported; use one of: {', '.join(SIGNING_ALGS)}"
        )
    return str(alg)


def _scope(body: dict[str, Any]) -> tuple[str, ...]:
    scope = _string(body, "scope")
    if len(scope) > 2000:
        raise InvalidClientMetadata("scope may be at most 2000 characters")
    return tuple(scope.split())


def read(body: Any, identifier: str, granted: tuple[str, ...] = ()) -> Metadata:
    """RFC 7591 section 3.1: the request body, a JSON object of client metadata; raises an
    OAuthError naming the first field that cannot be read (the rules come after: see
    `refusal`). The client's name defaults to its client_id. `granted`: an existing
    client's grant types, which an update (RFC 7592) may keep."""
    if not isinstance(body, dict):
        raise InvalidClientMetadata("the body must be a JSON object of client metadata (RFC 7591 section 3.1)")
    _not_kept(body)
    grant_types = _grants(body, granted)
    method = _auth_method(body)
    draft = Draft(
        name=_string(body, "client_name") or identifier,
        identifier=identifier,
        is_global=False,
        redirect_uris=_redirect_uris(body),
        kind="public" if method == NONE else "confidential",
        grant_types=grant_types,
        allowed_scopes=_scope(body),
        access_token_lifetime=None,
        refresh_token_lifetime=None,
        access_token_format="opaque",
        signing_alg=_signing_alg(body),
        introspection=False,
        description="",
        company="",
        logo_url=_logo_uri(body),
        require_par=_boolean(body, "require_pushed_authorization_requests"),
        jwks=_jwks(body, method),
        require_dpop=_boolean(body, "dpop_bound_access_tokens"),
    )
    return Metadata(draft, method)


def refusal(error: Invalid) -> OAuthError:
    """The RFC 7591 section 3.2.2 error for what the client rules refused, naming the field."""
    problems = [(RFC_NAMES.get(field, field), message) for field, ms in error.fields.items() for message in ms]
    redirect = [message for field, message in problems if field == "redirect_uris"]
    if redirect:
        return InvalidRedirectUri(f"redirect_uris: {redirect[0]}")
    field, message = problems[0]
    return InvalidClientMetadata(f"{field}: {message}")


def refuse_server_fields(body: dict[str, Any]) -> None:
    """RFC 7592 section 2.2: these "MUST NOT be included in the request"."""
    sent = [name for name in SERVER_FIELDS if name in body]
    if sent:
        raise InvalidRequest(f"{sent[0]} may not be sent in an update (RFC 7592 section 2.2)")
