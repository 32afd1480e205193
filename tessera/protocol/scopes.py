"""Scopes: RFC 6749 section 3.3, with Zendesk's scope vocabulary (INTERFACE.md "Scopes").

A scope string names permissions. To compare them, every scope expands into atoms, the
permissions it confers: `read` is every `RESOURCE:read`, `write` every `RESOURCE:write`,
a bare resource (`tickets`) both of its own. A set of scopes covers another when its atoms
include the other's; that one rule answers "does the client's allow-list admit this",
"does the earlier consent cover this" and "does this token reach that endpoint".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from tessera.protocol.errors import InvalidScope
from tessera.reasons import N_, R_, Reason

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
# OIDC Core 5.4 defines profile, email, address and phone; address and phone release
# claims Tessera does not keep (protocol/userinfo.py), so they are accepted and empty.
OIDC_SCOPES = ("openid", "profile", "email", "address", "phone", "offline_access")
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

# Plain words for the consent page, marked for translation (tessera/i18n.py): the page
# translates them into the reader's language; the API's descriptions stay English.
_RESOURCE_WORDS = {
    "tickets": N_("tickets"),
    "users": N_("users"),
    "organizations": N_("organizations"),
    "hc": N_("Help Center articles"),
    "apps": N_("apps"),
    "triggers": N_("triggers"),
    "automations": N_("automations"),
    "targets": N_("targets"),
    "webhooks": N_("webhooks"),
    "macros": N_("macros"),
    "requests": N_("requests"),
    "satisfaction_ratings": N_("satisfaction ratings"),
    "dynamic_content": N_("dynamic content"),
    "zis": N_("integration services"),
    "clients": N_("OAuth clients (apps) of the account"),
    "auditlogs": N_("audit logs"),
    "any_channel": N_("channel integrations"),
    "web_widget": N_("the web widget"),
}
_STANDALONE_WORDS = {
    "read": N_("Read everything in your account"),
    "write": N_("Create, change and delete everything in your account"),
    "impersonate": N_("Act on behalf of other users in your account"),
    "openid": N_("Confirm who you are"),
    "profile": N_("See your name"),
    "email": N_("See your email address"),
    "address": N_("See your postal address"),
    "phone": N_("See your phone number"),
    "offline_access": N_("Stay connected when you are not using it"),
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


def unknown(requested: Iterable[str]) -> Reason | None:
    """Why `requested` names scopes Tessera does not know, or None: for an allow-list (the
    management checks) as for a request."""
    unknown = [s for s in requested if s not in _ATOMS]
    if not unknown:
        return None
    shown = " ".join(s if _SCOPE_TOKEN.match(s) else "(malformed)" for s in unknown[:5])
    return R_(
        "unknown scope: %(scopes)s; known scopes include read, write, impersonate, "
        "RESOURCE:read, RESOURCE:write, openid, profile, email, address, phone, offline_access",
        scopes=shown,
    )


def beyond(allowed: tuple[str, ...], scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes a client's allow-list does not cover (none when it has no allow-list)."""
    if not allowed:
        return ()
    return tuple(s for s in scopes if not covers(allowed, (s,)))


def validate(requested: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse unknown scopes and scopes beyond the client's allow-list (invalid_scope)."""
    reason = unknown(requested)
    if reason is not None:
        raise InvalidScope(reason)
    outside = beyond(allowed, requested)
    if outside:
        raise InvalidScope(
            f"scope {' '.join(outside)} is not allowed for this client; it may request: {' '.join(allowed)}"
        )
    return requested


def still_allowed(granted: tuple[str, ...], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """INTERFACE.md section 4: scopes beyond the client's allowed scopes are invalid_scope
    at token time too. A grant made before an admin narrowed the client (`what` says which:
    a code, a refresh token) buys nothing outside the new list."""
    outside = beyond(allowed, granted)
    if outside:
        within = " ".join(s for s in granted if s not in outside)
        hint = f"send scope={within} to keep the rest, or " if within and what == "refresh token" else ""
        raise InvalidScope(
            f"this {what} carries scope {' '.join(outside)}, which the client may no longer use "
            f"(it may request: {' '.join(allowed)}); {hint}have the user authorize the client again"
        )
    return granted


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
    """Whether a token's scopes reach a resource that needs `needed`: an atom, or a scope
    that stands for several (`write`: every *:write), all of which it must have."""
    granted_atoms = atoms(granted)
    if needed in granted_atoms:  # an atom: the check every API call makes
        return True
    wanted = _ATOMS.get(needed)
    return wanted is not None and needed not in wanted and wanted <= granted_atoms


def describe(scopes: Iterable[str], translate: Callable[[str], str] = N_) -> list[str]:
    """Plain-language lines for the consent page, one per requested scope, in the language of
    `translate` (a gettext; English without it)."""
    lines = []
    for scope in scopes:
        if scope in _STANDALONE_WORDS:
            lines.append(translate(_STANDALONE_WORDS[scope]))
        elif ":" in scope:
            resource, access = scope.split(":", 1)
            words = translate(_RESOURCE_WORDS[resource]) if resource in _RESOURCE_WORDS else resource
            # TRANSLATORS: %(things)s is one of the resource words above, such as "tickets".
            line = N_("Read %(things)s") if access == "read" else N_("Create, change and delete %(things)s")
            lines.append(translate(line) % {"things": words})
        else:
            words = translate(_RESOURCE_WORDS[scope]) if scope in _RESOURCE_WORDS else scope
            lines.append(translate(N_("Read, create, change and delete %(things)s")) % {"things": words})
    return lines
