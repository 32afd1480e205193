"""The component schemas of the OpenAPI document (web/api/openapi.py): every JSON shape the
/api/v2 endpoints read and answer (INTERFACE.md sections 4 and 6), named in SCHEMAS. The
clients:read / clients:write areas' shapes are in openapi_client_schemas.py, the building
blocks in openapi_schema_parts.py.

The shapes are those of management/shapes.py; each object lists every member the API
sends as required, so that a schemathesis run notices one that goes missing.
"""

from __future__ import annotations

from tessera.management.audit_events import ACTIONS, SOURCE_TYPES
from tessera.model import ROLES
from tessera.protocol.lifetimes import ACCESS_MAX, ACCESS_MIN, REFRESH_MAX, REFRESH_MIN
from tessera.tickets import TICKET_PRIORITIES, TICKET_STATUSES
from tessera.web.api.openapi_client_schemas import (
    CLIENT,
    CLIENT_FIELDS,
    GLOBAL_CLIENT,
    RESOURCE,
    RESOURCE_IN,
    SECRET_ROLL_IN,
)
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
    ref,
)


def _wrapped(member: str, inner: Schema) -> Schema:
    """Zendesk wraps every object in a member named for it: {"client": {...}}."""
    return obj({member: inner})


def _body(member: str, inner: Schema) -> Schema:
    """A request wrapped like an answer, holding nothing else."""
    return {**obj({member: inner}), "additionalProperties": False}


def _listing(member: str, item: str) -> Schema:
    return obj({member: {"type": "array", "items": ref(item)}, "meta": ref("PageMeta"), "links": ref("PageLinks")})


ERROR = obj({"error": TEXT, "description": TEXT})
RECORD_INVALID = obj(
    {
        "error": {"const": "RecordInvalid"},
        "description": TEXT,
        "details": {
            "type": "object",
            "additionalProperties": array(obj({"description": TEXT})),
        },
    }
)

PAGE_META = obj({"has_more": FLAG, "after_cursor": nullable("string"), "before_cursor": nullable("string")})
PAGE_LINKS = obj({"next": nullable("string", format="uri"), "prev": nullable("string", format="uri")})

USER = obj(
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

TOKEN = obj(
    {
        "id": ID,
        "url": URL,
        "user_id": ID,
        "client_id": ID,
        "token": {**TEXT, "description": "the first 10 characters of the token"},
        "scopes": array(TEXT),
        "created_at": TIME,
        "expires_at": nullable("string", format="date-time"),
        "used_at": nullable("string", format="date-time"),
    }
)
TOKEN_CREATED = {
    "allOf": [
        ref("Token"),
        obj({"full_token": TEXT, "refresh_token": TEXT}, optional=("refresh_token",)),
    ]
}
TOKEN_IN = input_object(
    {
        "client_id": {**ID, "description": "the client's numeric id"},
        "scopes": {**array(SCOPE), "minItems": 1},
        "expires_in": nullable("integer", minimum=ACCESS_MIN, maximum=ACCESS_MAX),
        "refresh_token_expires_in": nullable("integer", minimum=REFRESH_MIN, maximum=REFRESH_MAX),
    },
    required=("client_id", "scopes"),
)

TICKET = obj(
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
TICKET_NEW = input_object(
    {
        "subject": SUBJECT,
        "comment": input_object({"body": {"type": "string", "minLength": 1, "pattern": "\\S"}}, required=("body",)),
        "priority": PRIORITY_IN,
    },
    required=("subject", "comment"),
)
TICKET_CHANGES = input_object(
    {"subject": SUBJECT, "status": {"type": "string", "enum": list(TICKET_STATUSES)}, "priority": PRIORITY_IN}
)

USER_NEW = input_object(
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
USER_CHANGES = input_object(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 255},
        "role": {"type": "string", "enum": list(ROLES)},
        "suspended": FLAG,
    }
)
PASSWORD_IN = input_object({"password": {"type": "string", "minLength": 8}}, required=("password",))
AUDIT_LOG = obj(
    {
        "id": ID,
        "url": URL,
        "actor_id": nullable("integer"),
        "actor_name": TEXT,
        "source_id": nullable("integer"),
        "source_type": {"type": "string", "enum": list(SOURCE_TYPES)},
        "source_label": TEXT,
        "action": {"type": "string", "enum": list(ACTIONS)},
        "change_description": TEXT,
        "ip_address": nullable("string"),
        "created_at": TIME,
    }
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
    "ClientCreation": _body("client", input_object(CLIENT_FIELDS, required=("name", "identifier"))),
    "ClientChanges": _body("client", input_object(CLIENT_FIELDS)),
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
