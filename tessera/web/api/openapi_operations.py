"""What each /api/v2 operation reads and answers, for the OpenAPI document (web/api/openapi.py).

Keyed by method and path with its parameters left unnamed (`/api/v2/tickets/{}`): the
paths themselves, their parameter names and the `.json` twins come from the route table,
so a path is written once, there. A route without an entry here is a test failure
(tests/http/test_openapi.py), never a silent gap.

Every authenticated operation may answer 400 (a token outside the Authorization header,
a body or query that is not the documented shape), 401 (RFC 6750 section 3.1: no or a bad
token) and 403 (insufficient_scope, a browser session without X-CSRF-Token, or a caller who
is not allowed); `errors` lists what an operation answers besides those.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.web.api.openapi_schema_parts import ID, Schema

PAGING = ("page_size", "page_after")


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    scope: str  # the resource scope; `read` / `write` cover it
    answer: tuple[int, str | None]  # success status and its schema (None: no body)
    errors: tuple[int, ...] = ()
    body: str | None = None  # the request body's schema
    body_required: bool = True
    query: tuple[str, ...] = ()  # names of parameter components
    path: tuple[Schema, ...] = ()  # one schema per path parameter, in order
    public: bool = False  # no credentials at all
    location: bool = False  # a 201 names the new record in a Location header


TOKEN_ID: Schema = {
    "anyOf": [ID, {"const": "current"}],
    "description": "a token's id, or `current`: the token of the request",
}
NOT_FOUND, INVALID = 404, 422


def _crud(
    tag: str, base: str, scope: str, one: str, *, created: tuple[int, ...], changed: tuple[int, ...], delete: bool
) -> dict[tuple[str, str], Operation]:
    """list / create / show / update (/ delete), as Zendesk's resources have them; `created`
    and `changed` are the errors of creating and changing besides 400, 401 and 403."""
    read, write = f"{scope}:read", f"{scope}:write"
    operations = {
        ("GET", base): Operation(f"List the {tag.lower()}", tag, read, (200, f"{one}List"), query=PAGING),
        ("POST", base): Operation(
            f"Create a {one.lower()}",
            tag,
            write,
            (201, f"{one}Envelope"),
            created,
            body=f"{one}Creation",
            location=True,
        ),
        ("GET", base + "/{}"): Operation(
            f"Show a {one.lower()}", tag, read, (200, f"{one}Envelope"), (NOT_FOUND,), path=(ID,)
        ),
        ("PUT", base + "/{}"): Operation(
            f"Change a {one.lower()}", tag, write, (200, f"{one}Envelope"), changed, body=f"{one}Changes", path=(ID,)
        ),
    }
    if delete:
        operations["DELETE", base + "/{}"] = Operation(
            f"Delete a {one.lower()}", tag, write, (204, None), (NOT_FOUND,), path=(ID,)
        )
    return operations


_TOKENS = "/api/v2/oauth/tokens"
_RESOURCES = "/api/v2/oauth/resources"
_GLOBAL = "/api/v2/oauth/global_clients"

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v2/openapi"): Operation("This document", "OpenAPI", "", (200, None), public=True),
    ("GET", "/api/v2/users/me"): Operation("The caller", "Users", "users:read", (200, "MeEnvelope")),
    **_crud("Users", "/api/v2/users", "users", "User", created=(INVALID,), changed=(NOT_FOUND, INVALID), delete=False),
    ("PUT", "/api/v2/users/{}/password"): Operation(
        "Set a user's password", "Users", "users:write", (204, None), (NOT_FOUND, INVALID), "Password", path=(ID,)
    ),
    **_crud(
        "Clients",
        "/api/v2/oauth/clients",
        "clients",
        "Client",
        created=(INVALID,),
        changed=(NOT_FOUND, INVALID),
        delete=True,
    ),
    ("PUT", "/api/v2/oauth/clients/{}/generate_secret"): Operation(
        "Generate a new secret; the old one may keep working a while",
        "Clients",
        "clients:write",
        (200, "ClientEnvelope"),
        (NOT_FOUND, INVALID),
        body="SecretRoll",
        body_required=False,
        path=(ID,),
    ),
    ("GET", _GLOBAL): Operation(
        "The global clients this account's users have authorized",
        "Third-party apps",
        "clients:read",
        (200, "GlobalClientList"),
        query=PAGING,
    ),
    ("GET", _GLOBAL + "/{}"): Operation(
        "Show an authorized global client",
        "Third-party apps",
        "clients:read",
        (200, "GlobalClientEnvelope"),
        (NOT_FOUND,),
        path=(ID,),
    ),
    ("DELETE", _GLOBAL + "/{}"): Operation(
        "Revoke every token and consent of a global client in this account",
        "Third-party apps",
        "clients:write",
        (204, None),
        (NOT_FOUND,),
        path=(ID,),
    ),
    ("GET", _RESOURCES): Operation(
        "List the resources registered for the account's tokens (RFC 8707)",
        "Resources",
        "clients:read",
        (200, "ResourceList"),
        query=PAGING,
    ),
    ("POST", _RESOURCES): Operation(
        "Register a resource: clients may then ask for tokens for it with resource=URI",
        "Resources",
        "clients:write",
        (201, "ResourceEnvelope"),
        (INVALID,),
        body="ResourceCreation",
        location=True,
    ),
    ("GET", _RESOURCES + "/{}"): Operation(
        "Show a resource", "Resources", "clients:read", (200, "ResourceEnvelope"), (NOT_FOUND,), path=(ID,)
    ),
    ("DELETE", _RESOURCES + "/{}"): Operation(
        "Delete a resource: no new tokens may be for it",
        "Resources",
        "clients:write",
        (204, None),
        (NOT_FOUND,),
        path=(ID,),
    ),
    ("GET", _TOKENS): Operation(
        "List live tokens (admins: all=true, client_id, global_client_id, user_id)",
        "Tokens",
        "users:read",
        (200, "TokenList"),
        query=("all", "client_id", "global_client_id", "user_id", *PAGING),
    ),
    ("POST", _TOKENS): Operation(
        "Create a token acting as the calling admin; full_token is shown this once",
        "Tokens",
        "write",
        (201, "CreatedTokenEnvelope"),
        (NOT_FOUND,),
        body="TokenCreation",
    ),
    ("GET", _TOKENS + "/{}"): Operation(
        "Show a token", "Tokens", "users:read", (200, "TokenEnvelope"), (NOT_FOUND,), path=(TOKEN_ID,)
    ),
    ("DELETE", _TOKENS + "/{}"): Operation(
        "Revoke a token and its family", "Tokens", "write", (204, None), (NOT_FOUND,), path=(TOKEN_ID,)
    ),
    ("GET", "/api/v2/audit_logs"): Operation(
        "The audit log, newest first",
        "Audit log",
        "auditlogs:read",
        (200, "AuditLogList"),
        query=("filter_action", "filter_actor_id", "filter_source_type", "filter_created_at", *PAGING),
    ),
    ("GET", "/api/v2/audit_logs/{}"): Operation(
        "Show an audit log entry", "Audit log", "auditlogs:read", (200, "AuditLogEnvelope"), (NOT_FOUND,), path=(ID,)
    ),
    **_crud("Tickets", "/api/v2/tickets", "tickets", "Ticket", created=(), changed=(NOT_FOUND,), delete=True),
}
