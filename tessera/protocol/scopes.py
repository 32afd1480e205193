"""Scopes: RFC 6749 section 3.3, with Zendesk's scope vocabulary (INTERFACE.md "Scopes").

A scope string names permissions. To compare them, every scope expands into atoms, the
permissions it confers: `read` is every `RESOURCE:read`, `write` every `RESOURCE:write`,
a bare resource (`tickets`) both of its own. A set of scopes covers another when its atoms
include the other's; that one rule answers "does the client's allow-list admit this",
"does the earlier consent cover this" and "does this token reach that endpoint".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tessera.protocol.errors import InvalidScope

READ_WRITE_RESOURCES = (
    "tickets",
    "users",
    "organizations",
    "hc",
    "apps",
    "triggers",
    "automations",
    "targets",
    "webhooks",
    "macros",
    "requests",
    "satisfaction_ratings",
    "dynamic_content",
    "zis",
    # INTERFACE.md section 6: the client management API takes clients:read / clients:write.
    "clients",
)
READ_ONLY_RESOURCES = ("auditlogs",)
WRITE_ONLY_RESOURCES = ("any_channel", "web_widget")
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
STANDALONE_SCOPES = ("impersonate", *OIDC_SCOPES)

_READ_ATOMS = frozenset(f"{r}:read" for r in READ_WRITE_RESOURCES + READ_ONLY_RESOURCES)
_WRITE_ATOMS = frozenset(f"{r}:write" for r in READ_WRITE_RESOURCES + WRITE_ONLY_RESOURCES)

# Every scope Tessera knows, mapped to its atoms. Built once: a literal table, no rules at
# run time, so an unknown scope is simply a missing key.
_ATOMS: dict[str, frozenset[str]] = {"read": _READ_ATOMS, "write": _WRITE_ATOMS}
for _resource in READ_WRITE_RESOURCES:
    _ATOMS[_resource] = frozenset({f"{_resource}:read", f"{_resource}:write"})
for _atom in _READ_ATOMS | _WRITE_ATOMS:
    _ATOMS[_atom] = frozenset({_atom})
for _scope in STANDALONE_SCOPES:
    _ATOMS[_scope] = frozenset({_scope})

KNOWN_SCOPES: tuple[str, ...] = tuple(sorted(_ATOMS))

# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")

# Plain words for the consent page.
_RESOURCE_WORDS = {
    "tickets": "tickets",
    "users": "users",
    "organizations": "organizations",
    "hc": "Help Center articles",
    "apps": "apps",
    "triggers": "triggers",
    "automations": "automations",
    "targets": "targets",
    "webhooks": "webhooks",
    "macros": "macros",
    "requests": "requests",
    "satisfaction_ratings": "satisfaction ratings",
    "dynamic_content": "dynamic content",
    "zis": "integration services",
    "clients": "OAuth clients (apps) of the account",
    "auditlogs": "audit logs",
    "any_channel": "channel integrations",
    "web_widget": "the web widget",
}
_STANDALONE_WORDS = {
    "read": "Read everything in your account",
    "write": "Create, change and delete everything in your account",
    "impersonate": "Act on behalf of other users in your account",
    "openid": "Confirm who you are",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Stay connected when you are not using it",
}


def parse(raw: str | None) -> tuple[str, ...]:
    """Split a space-delimited scope parameter, dropping repeats, keeping order."""
    if raw is None:
        return ()
    seen: dict[str, None] = {}
    for token in raw.split(" "):
        if token:
            seen.setdefault(token, None)
    return tuple(seen)


def format_scopes(scopes: Iterable[str]) -> str:
    return " ".join(scopes)


def atoms(scopes: Iterable[str]) -> frozenset[str]:
    result: set[str] = set()
    for scope in scopes:
        result |= _ATOMS.get(scope, frozenset())
    return frozenset(result)


def covers(granted: Iterable[str], requested: Iterable[str]) -> bool:
    return atoms(requested) <= atoms(granted)


def validate(requested: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse unknown scopes and scopes beyond the client's allow-list (invalid_scope)."""
    unknown = [s for s in requested if s not in _ATOMS]
    if unknown:
        shown = " ".join(s if _SCOPE_TOKEN.match(s) else "(malformed)" for s in unknown[:5])
        raise InvalidScope(
            f"unknown scope: {shown}; known scopes include read, write, impersonate, "
            "RESOURCE:read, RESOURCE:write, openid, profile, email, offline_access"
        )
    if allowed:
        outside = [s for s in requested if not covers(allowed, (s,))]
        if outside:
            raise InvalidScope(
                f"scope {' '.join(outside)} is not allowed for this client; it may request: {' '.join(allowed)}"
            )
    return requested


def resolve(raw: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes of a request: validated, or the client's allow-list when none were sent.

    RFC 6749 section 3.3: when scope is omitted the server "MUST either process the request
    using a pre-defined default value or fail the request". The default is the client's
    allowed scopes; a client without an allow-list must say what it wants.
    """
    requested = parse(raw)
    if not requested:
        if allowed:
            return allowed
        raise InvalidScope("scope is required: send a space-separated list such as scope=read")
    return validate(requested, allowed)


def satisfies(granted: Iterable[str], needed: str) -> bool:
    """Whether a token's scopes reach a resource that needs `needed` (an atom)."""
    return needed in atoms(granted)


def describe(scopes: Iterable[str]) -> list[str]:
    """Plain-language lines for the consent page, one per requested scope."""
    lines = []
    for scope in scopes:
        if scope in _STANDALONE_WORDS:
            lines.append(_STANDALONE_WORDS[scope])
        elif ":" in scope:
            resource, access = scope.split(":", 1)
            words = _RESOURCE_WORDS.get(resource, resource)
            lines.append(f"{'Read' if access == 'read' else 'Create, change and delete'} {words}")
        else:
            lines.append(f"Read, create, change and delete {_RESOURCE_WORDS.get(scope, scope)}")
    return lines
