"""The registration response: RFC 7591 section 3.2.1 and RFC 7592 section 3. What a
registered client is now, in the RFC's names (registration_metadata.py reads the request)."""

from __future__ import annotations

import json
from typing import Any

from tessera.management.registration_metadata import BASIC, NONE, PRIVATE_KEY_JWT, RESPONSE_TYPES, URNS
from tessera.model import GRANT_TYPES, Client


def response(
    client: Client,
    auth_method: str,
    issued_at: float,
    registration_client_uri: str,
    registration_access_token: str | None,
    client_secret: str | None = None,
) -> dict[str, Any]:
    """RFC 7591 section 3.2.1 (and RFC 7592 section 3): the metadata as kept, the
    identifiers the server gave, and the registration access token when the request may
    learn it. The secret is stored as a digest only: it is in the registration response
    and never again."""
    body: dict[str, Any] = {
        "client_id": client.identifier,
        "client_id_issued_at": int(issued_at),
    }
    if client_secret is not None:
        body["client_secret"] = client_secret
    if not client.is_public and not client.jwks:  # a private_key_jwt client has no secret
        body["client_secret_expires_at"] = 0  # RFC 7591 section 3.2.1: 0 means it does not expire
    if registration_access_token is not None:
        body["registration_access_token"] = registration_access_token
    body["registration_client_uri"] = registration_client_uri
    # What the client is now: an admin may have changed it since it registered itself.
    if client.is_public:
        auth_method = NONE
    elif client.jwks:
        auth_method = PRIVATE_KEY_JWT
    elif auth_method in (NONE, PRIVATE_KEY_JWT):
        auth_method = BASIC
    body |= {
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": [URNS.get(g, g) for g in GRANT_TYPES if g in client.grant_types],
        "response_types": list(RESPONSE_TYPES),
        "token_endpoint_auth_method": auth_method,
        "id_token_signed_response_alg": client.signing_alg,
    }
    if client.allowed_scopes:
        body["scope"] = " ".join(client.allowed_scopes)
    if client.logo_url:
        body["logo_uri"] = client.logo_url
    if client.require_par:
        body["require_pushed_authorization_requests"] = True
    if client.jwks:
        body["jwks"] = json.loads(client.jwks)
    if client.require_dpop:
        body["dpop_bound_access_tokens"] = True  # RFC 9449 section 5.2
    return body
