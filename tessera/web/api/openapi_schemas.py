"""The component schemas of the OpenAPI document (web/api/openapi.py): every JSON shape the
/api/v2 endpoints read and answer, in one place (INTERFACE.md sections 4 and 6).

The shapes are those of management/shapes.py; each object lists every member the API
sends as required, so that a schemathesis run notices one that goes missing. OpenAPI 3.1
schemas are JSON Schema 2020-12: a member that may be null has `type: [T, "null"]`.
"""

from __future__ import annotations

from typing import Any

from tessera.management.audit_events import ACTIONS, SOURCE_TYPES
from tessera.model import (
    ACCESS_TOKEN_FORMATS,
    CLIENT_KINDS,
    CLIENT_REGISTRATIONS,
    GRANT_TYPES,
    ROLES,
    SIGNING_ALGS,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
)
from tessera.protocol.lifetimes import (
    ACCESS_MAX,
    ACCESS_MIN,
    REFRESH_MAX,
    REFRESH_MIN,
)
from tessera.protocol.scopes import KNOWN_SCOPES

Schema = dict[str, Any]

PREVIOUS_SECRET_MAX = 604_800  # INTERFACE.md section 6: generate_secret's previous_secret_expires_in


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> Schema:
    return {"type": [kind, "null"], **more}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """An object whose members are all required but the `optional` ones."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
    }


def _input(properties: dict[str, Schema], *, required: tuple[str, ...] = ()) -> Schema:
    """A request object: only `required` members must be sent, and no other (the
    administration API refuses a field the resource does not have with 400; the members a
    GET answer carries, such as id and url, are ignored so that it can be PUT back)."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _wrapped(member: str, inner: Schema) -> Schema:
    """Zendesk wraps every object in a member named for it: {"client": {...}}."""
    return _object({member: inner})


def _body(member: str, inner: Schema) -> Schema:
    """A request wrapped like an answer, holding nothing else."""
    return {**_object({member: inner}), "additionalProperties": False}


def _listing(member: str, item: str) -> Schema:
    return _object({member: {"type": "array", "items": ref(item)}, "meta": ref("PageMeta"), "links": ref("PageLinks")})


ID: Schema = {"type": "integer", "minimum": 1}
URL: Schema = {"type": "string", "format": "uri"}
TIME: Schema = {"type": "string", "format": "date-time"}
TEXT: Schema = {"type": "string"}
FLAG: Schema = {"type": "boolean"}
SCOPE: Schema = {"type": "string", "enum": list(KNOWN_SCOPES)}


def _strings(item: Schema) -> Schema:
    return {"type": "array", "items": item}


ERROR = _object({"error": TEXT, "description": TEXT})
RECORD_INVALID = _object(
    {
        "error": {"const": "RecordInvalid"},
        "description": TEXT,
        "details": {
            "type": "object",
            "additionalProperties": _strings(_object({"description": TEXT})),
        },
    }
)

PAGE_META = _object({"has_more": FLAG, "after_cursor": _nullable("string"), "before_cursor": _nullable("string")})
PAGE_LINKS = _object({"next": _nullable("string", format="uri"), "prev": _nullable("string", format="uri")})

USER = _object(
    {
        "id": ID,
        "url": URL,
        "account_id": ID,
        "email": TEXT,
        "name": TEXT,
        "role": {"type": "string", "enum": list(ROLES)},
        "active": FLAG,
        "suspended": FLAG,
        "created_at": TIME,
        "updated_at": TIME,
    }
)
ME = {
    "allOf": [
        ref("User"),
        {"type": "object", "properties": {"authenticity_token": {**TEXT, "description": "only for a browser session"}}},
    ]
}

LIFETIME_IN: Schema = {
    "anyOf": [{"type": "integer", "minimum": ACCESS_MIN, "maximum": ACCESS_MAX}, {"enum": ["never", None]}],
    "description": "seconds, or 'never' (or null) for Zendesk's legacy non-expiring tokens (opaque tokens only)",
}


def _list_or_text(item: Schema, text: str) -> Schema:
    return {"anyOf": [_strings(item), {"type": "string", "description": text}]}


CLIENT_FIELDS: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "identifier": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.\\-]{0,254}$"},
    "kind": {"type": "string", "enum": list(CLIENT_KINDS)},
    "redirect_uri": {
        **_list_or_text(URL, "one URI per line"),
        "description": "replaces the list; absolute, https unless loopback or localhost, no fragment",
    },
    "company": _nullable("string"),
    "description": _nullable("string"),
    "logo_url": _nullable("string"),
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
        **_nullable("object"),
        "description": 'a public JWK set {"keys": [...]}: the client then authenticates with private_key_jwt '
        "(RFC 7523) and has no secret; null removes it",
    },
    "dpop_bound_access_tokens": {
        **FLAG,
        "description": "RFC 9449 section 5.2: tokens only with a DPoP proof, bound to the client's key",
    },
}
CLIENT = _object(
    {
        "id": ID,
        "url": URL,
        "name": TEXT,
        "identifier": TEXT,
        "company": TEXT,
        "description": TEXT,
        "logo_url": _nullable("string"),
        "redirect_uri": _strings(TEXT),
        "secret": {
            **_nullable("string"),
            "description": "the full secret once, after creation or regeneration; afterwards its first 9 characters; "
            "null for a public client",
        },
        "kind": {"type": "string", "enum": list(CLIENT_KINDS)},
        "global": FLAG,
        "user_id": _nullable("integer"),
        "grant_types": _strings({"type": "string", "enum": list(GRANT_TYPES)}),
        "allowed_scopes": _strings(TEXT),
        "access_token_lifetime": {**_nullable("integer"), "description": "null: the tokens do not expire"},
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
        "jwks": {**_nullable("object"), "description": "the public JWK set for private_key_jwt, or null"},
        "created_at": TIME,
        "updated_at": TIME,
    }
)
GLOBAL_CLIENT = _object(
    {
        "id": ID,
        "identifier": TEXT,
        "name": TEXT,
        "company": TEXT,
        "description": TEXT,
        "logo_url": _nullable("string"),
    }
)

TOKEN = _object(
    {
        "id": ID,
        "url": URL,
        "user_id": ID,
        "client_id": ID,
        "token": {**TEXT, "description": "the first 10 characters of the token"},
        "scopes": _strings(TEXT),
        "created_at": TIME,
        "expires_at": _nullable("string", format="date-time"),
        "used_at": _nullable("string", format="date-time"),
    }
)
TOKEN_CREATED = {
    "allOf": [
        ref("Token"),
        _object({"full_token": TEXT, "refresh_token": TEXT}, optional=("refresh_token",)),
    ]
}
TOKEN_IN = _input(
    {
        "client_id": {**ID, "description": "the client's numeric id"},
        "scopes": {**_strings(SCOPE), "minItems": 1},
        "expires_in": _nullable("integer", minimum=ACCESS_MIN, maximum=ACCESS_MAX),
        "refresh_token_expires_in": _nullable("integer", minimum=REFRESH_MIN, maximum=REFRESH_MAX),
    },
    required=("client_id", "scopes"),
)

TICKET = _object(
    {
        "id": ID,
        "url": URL,
        "subject": TEXT,
        "description": TEXT,
        "status": {"type": "string", "enum": list(TICKET_STATUSES)},
        "priority": {"type": ["string", "null"], "enum": [*TICKET_PRIORITIES, None]},
        "requester_id": ID,
        "submitter_id": ID,
        "created_at": TIME,
        "updated_at": TIME,
    }
)
SUBJECT: Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "\\S"}
PRIORITY_IN: Schema = {"type": ["string", "null"], "enum": [*TICKET_PRIORITIES, None]}
TICKET_NEW = _input(
    {
        "subject": SUBJECT,
        "comment": _input({"body": {"type": "string", "minLength": 1, "pattern": "\\S"}}, required=("body",)),
        "priority": PRIORITY_IN,
    },
    required=("subject", "comment"),
)
TICKET_CHANGES = _input(
    {"subject": SUBJECT, "status": {"type": "string", "enum": list(TICKET_STATUSES)}, "priority": PRIORITY_IN}
)

USER_NEW = _input(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "email": {"type": "string", "format": "email"},
        "role": {"type": "string", "enum": list(ROLES), "default": "end-user"},
        "password": {
            "type": "string",
            "minLength": 8,
            "description": "without one the user cannot sign in until it is set",
        },
    },
    required=("email",),
)
USER_CHANGES = _input(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "role": {"type": "string", "enum": list(ROLES)},
        "suspended": FLAG,
    }
)
PASSWORD_IN = _input({"password": {"type": "string", "minLength": 8}}, required=("password",))
SECRET_ROLL_IN = _input(
    {
        "previous_secret_expires_in": {
            "type": "integer",
            "minimum": 0,
            "maximum": PREVIOUS_SECRET_MAX,
            "description": "seconds the old secret keeps working (default 0)",
        }
    }
)

AUDIT_LOG = _object(
    {
        "id": ID,
        "url": URL,
        "actor_id": _nullable("integer"),
        "actor_name": TEXT,
        "source_id": _nullable("integer"),
        "source_type": {"type": "string", "enum": list(SOURCE_TYPES)},
        "source_label": TEXT,
        "action": {"type": "string", "enum": list(ACTIONS)},
        "change_description": TEXT,
        "ip_address": _nullable("string"),
        "created_at": TIME,
    }
)

RESOURCE = _object(
    {
        "id": ID,
        "url": URL,
        "uri": {**URL, "description": "what a client sends as resource (RFC 8707) and finds as its tokens' aud"},
        "name": TEXT,
        "scopes": {**_strings(SCOPE), "description": "the scopes a token for it may carry; empty: any"},
        "created_at": TIME,
    }
)
RESOURCE_IN = _input(
    {
        "uri": {**URL, "description": "absolute, https (http only on localhost), no fragment"},
        "name": {**_nullable("string"), "maxLength": 255, "description": "default: the URI's host"},
        "scopes": _list_or_text(SCOPE, "space-separated scopes"),
    },
    required=("uri",),
)

SCHEMAS: dict[str, Schema] = {
    "Error": ERROR,
    "RecordInvalid": RECORD_INVALID,
    "PageMeta": PAGE_META,
    "PageLinks": PAGE_LINKS,
    "User": USER,
    "Me": ME,
    "UserEnvelope": _wrapped("user", ref("User")),
    "MeEnvelope": _wrapped("user", ref("Me")),
    "UserList": _listing("users", "User"),
    "UserCreation": _body("user", USER_NEW),
    "UserChanges": _body("user", USER_CHANGES),
    "Password": PASSWORD_IN,
    "Client": CLIENT,
    "ClientEnvelope": _wrapped("client", ref("Client")),
    "ClientList": _listing("clients", "Client"),
    "ClientCreation": _body("client", _input(CLIENT_FIELDS, required=("name", "identifier"))),
    "ClientChanges": _body("client", _input(CLIENT_FIELDS)),
    "SecretRoll": SECRET_ROLL_IN,
    "GlobalClient": GLOBAL_CLIENT,
    "GlobalClientEnvelope": _wrapped("global_client", ref("GlobalClient")),
    "GlobalClientList": _listing("global_clients", "GlobalClient"),
    "Token": TOKEN,
    "TokenEnvelope": _wrapped("token", ref("Token")),
    "CreatedTokenEnvelope": _wrapped("token", ref("CreatedToken")),
    "CreatedToken": TOKEN_CREATED,
    "TokenList": _listing("tokens", "Token"),
    "TokenCreation": _body("token", TOKEN_IN),
    "Ticket": TICKET,
    "TicketEnvelope": _wrapped("ticket", ref("Ticket")),
    "TicketList": _listing("tickets", "Ticket"),
    "TicketCreation": _body("ticket", TICKET_NEW),
    "TicketChanges": _body("ticket", TICKET_CHANGES),
    "Resource": RESOURCE,
    "ResourceEnvelope": _wrapped("resource", ref("Resource")),
    "ResourceList": _listing("resources", "Resource"),
    "ResourceCreation": _body("resource", RESOURCE_IN),
    "AuditLog": AUDIT_LOG,
    "AuditLogEnvelope": _wrapped("audit_log", ref("AuditLog")),
    "AuditLogList": _listing("audit_logs", "AuditLog"),
}
