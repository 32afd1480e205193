"""The OpenAPI component schemas of the clients:read / clients:write APIs (INTERFACE.md
section 6): an account's clients, the global clients its users authorized, its resource
servers, and a secret's roll.

Apart from openapi_schemas.py (the other areas' shapes, and the SCHEMAS table that names
these too) because a client's fields are the largest group of shapes, and they follow the
client rules (management/client_rules.py), not those of users, tokens or tickets.
"""

from __future__ import annotations

from tessera.management.client_secrets import MAX_PREVIOUS_SECRET_OVERLAP
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, CLIENT_REGISTRATIONS, GRANT_TYPES, SIGNING_ALGS
from tessera.protocol.lifetimes import ACCESS_MAX, ACCESS_MIN, REFRESH_MAX, REFRESH_MIN
from tessera.web.api.openapi_schema_parts import (
    FLAG,
    ID,
    SCOPE,
    TEXT,
    TIME,
    URL,
    Schema,
    array,
    input_object,
    nullable,
    obj,
)

LIFETIME_IN: Schema = {
    "anyOf": [{"type": "integer", "minimum": ACCESS_MIN, "maximum": ACCESS_MAX}, {"enum": ["never", None]}],
    "description": "seconds, or 'never' (or null) for Zendesk's legacy non-expiring tokens (opaque tokens only)",
}


def _list_or_text(item: Schema, text: str) -> Schema:
    return {"anyOf": [array(item), {"type": "string", "description": text}]}


CLIENT_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "identifier": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,254}$"},
    "kind": {"type": "string", "enum": list(CLIENT_KINDS)},
    "redirect_uri": {
        **_list_or_text(URL, "one URI per line"),
        "description": "replaces the list; absolute, https unless loopback or localhost, no fragment",
    },
    "company": nullable("string"),
    "description": nullable("string"),
    "logo_url": nullable("string"),
    "grant_types": _list_or_text({"type": "string", "enum": list(GRANT_TYPES)}, "space-separated"),
    "allowed_scopes": _list_or_text(SCOPE, "space-separated"),
    "access_token_lifetime": LIFETIME_IN,
    "refresh_token_lifetime": {"type": "integer", "minimum": REFRESH_MIN, "maximum": REFRESH_MAX},
    "access_token_format": {"type": "string", "enum": list(ACCESS_TOKEN_FORMATS)},
    "signing_alg": {"type": "string", "enum": list(SIGNING_ALGS)},
    "introspection": {**FLAG, "description": "a resource server: may introspect any token of its account"},
    "require_pushed_authorization_requests": {
        **FLAG,
        "description": "RFC 9126 section 6: authorization requests only by a request_uri from the PAR endpoint",
    },
    "jwks": {
        **nullable("object"),
        "description": 'a public JWK set {"keys": [...]}: the client then authenticates with private_key_jwt '
        "(RFC 7523) and has no secret; null removes it",
    },
    "dpop_bound_access_tokens": {
        **FLAG,
        "description": "RFC 9449 section 5.2: tokens only with a DPoP proof, bound to the client's key",
    },
}
CLIENT = obj(
    {
        "id": ID,
        "url": URL,
        "name": TEXT,
        "identifier": TEXT,
        "company": TEXT,
        "description": TEXT,
        "logo_url": nullable("string"),
        "redirect_uri": array(TEXT),
        "secret": {
            **nullable("string"),
            "description": "the full secret once, after creation or regeneration; afterwards its first 9 characters; "
            "null for a public client",
        },
        "kind": {"type": "string", "enum": list(CLIENT_KINDS)},
        "global": FLAG,
        "user_id": nullable("integer"),
        "grant_types": array({"type": "string", "enum": list(GRANT_TYPES)}),
        "allowed_scopes": array(TEXT),
        "access_token_lifetime": {**nullable("integer"), "description": "null: the tokens do not expire"},
        "refresh_token_lifetime": {"type": "integer"},
        "access_token_format": {"type": "string", "enum": list(ACCESS_TOKEN_FORMATS)},
        "signing_alg": {"type": "string", "enum": list(SIGNING_ALGS)},
        "introspection": FLAG,
        "require_pushed_authorization_requests": FLAG,
        "dpop_bound_access_tokens": FLAG,
        "registration": {
            "type": "string",
            "enum": list(CLIENT_REGISTRATIONS),
            "description": "admin: made by an admin; dynamic: registered itself (RFC 7591); "
            "metadata_document: described by the document at its client_id URL. The last two are unverified.",
        },
        "jwks": {**nullable("object"), "description": "the public JWK set for private_key_jwt, or null"},
        "created_at": TIME,
        "updated_at": TIME,
    }
)
GLOBAL_CLIENT = obj(
    {
        "id": ID,
        "identifier": TEXT,
        "name": TEXT,
        "company": TEXT,
        "description": TEXT,
        "logo_url": nullable("string"),
    }
)

SECRET_ROLL_IN = input_object(
    {
        "previous_secret_expires_in": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_PREVIOUS_SECRET_OVERLAP,
            "description": "seconds the old secret keeps working (default 0)",
        }
    }
)

RESOURCE = obj(
    {
        "id": ID,
        "url": URL,
        "uri": {**URL, "description": "what a client sends as resource (RFC 8707) and finds as its tokens' aud"},
        "name": TEXT,
        "scopes": {**array(SCOPE), "description": "the scopes a token for it may carry; empty: any"},
        "created_at": TIME,
    }
)
RESOURCE_IN = input_object(
    {
        "uri": {**URL, "description": "absolute, https (http only on localhost), no fragment"},
        "name": {**nullable("string"), "maxLength": 255, "description": "default: the URI's host"},
        "scopes": _list_or_text(SCOPE, "space-separated scopes"),
    },
    required=("uri",),
)
