"""What a client may be (INTERFACE.md sections 1, 3 and 6): the checks that creating and
changing a client share. Every check adds its problem to the field it is about, so that
one Invalid names every bad field (the API's 422 details, the console's messages beside
the fields, the CLI's one line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tessera import shown_text
from tessera.management.client_jwks import jwks_problem
from tessera.management.errors import Problems
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, DEFAULT_GRANT_TYPES, GRANT_TYPES, SIGNING_ALGS
from tessera.protocol import lifetimes, redirect_uri
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import safe_description
from tessera.protocol.numbers import whole_number
from tessera.reasons import R_

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
REDIRECTING_GRANTS = frozenset({"authorization_code", "implicit"})
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_DESCRIPTION = 65_536
MAX_LOGO_URL = 2000


@dataclass(frozen=True)
class Draft:
    """Every field of a client as given (before checks): a new client, or a stored one
    with the requested changes applied."""

    name: str
    identifier: str
    is_global: bool
    redirect_uris: tuple[str, ...]
    kind: str
    grant_types: tuple[str, ...]
    allowed_scopes: tuple[str, ...]
    access_token_lifetime: str | int | None  # seconds, "never", or None for the default
    refresh_token_lifetime: str | int | None
    access_token_format: str
    signing_alg: str
    introspection: bool
    description: str
    company: str
    logo_url: str
    require_par: bool = False  # authorization requests only through PAR (RFC 9126 section 6)
    jwks: str | None = None  # a JWK set as JSON text; None or "": none
    # RFC 9449 section 5.2 (dpop_bound_access_tokens): tokens only with a DPoP proof.
    require_dpop: bool = False


def _text(problems: Problems, field: str, value: str, limit: int, *, required: bool, lines: bool = False) -> str:
    if (_CONTROL_BUT_LINES if lines else shown_text.CONTROL).search(value):
        problems.add(field, R_("%(field)s may not contain control characters", field=field))
    stripped = value.strip()
    hidden = shown_text.hidden_problem(field, stripped)
    if hidden is not None:
        problems.add(field, hidden)
    if required and not stripped:
        problems.add(field, R_("%(field)s must not be empty", field=field))
    elif required and (blank := shown_text.blank_problem(field, stripped)) is not None:
        problems.add(field, blank)
    if len(stripped) > limit:
        problems.add(
            field,
            R_(
                "%(field)s may be at most %(limit)s characters (it has %(count)s)",
                field=field,
                limit=limit,
                count=len(stripped),
            ),
        )
    return stripped


def _logo_url(problems: Problems, value: str) -> str:
    url = _text(problems, "logo_url", value, MAX_LOGO_URL, required=False)
    if url and "logo_url" not in problems.fields:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is None or parts.scheme != "https" or not parts.netloc or " " in url:
            problems.add(
                "logo_url", R_("logo_url %(url)s must be an absolute https URL (or empty)", url=repr(url[:80]))
            )
    return url


def _identifier(problems: Problems, identifier: str) -> str:
    if not IDENTIFIER.match(identifier):
        problems.add(
            "identifier",
            R_(
                "identifier %(identifier)s is not valid: use letters, digits, '_', '.' and '-' "
                "(up to 255, starting with a letter or digit)",
                identifier=repr(identifier[:80]),
            ),
        )
    return identifier


def _grant_types(problems: Problems, draft: Draft) -> tuple[str, ...]:
    if draft.kind not in CLIENT_KINDS:
        problems.add(
            "kind",
            R_("kind %(kind)s is not one of: %(kinds)s", kind=repr(draft.kind[:40]), kinds=", ".join(CLIENT_KINDS)),
        )
    grant_types = tuple(dict.fromkeys(draft.grant_types or DEFAULT_GRANT_TYPES))
    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown:
        problems.add(
            "grant_types",
            R_(
                "grant type %(grant_type)s is not one of: %(grant_types)s",
                grant_type=repr(unknown[0][:40]),
                grant_types=", ".join(GRANT_TYPES),
            ),
        )
    if "client_credentials" in grant_types:
        if draft.kind == "public":
            problems.add("grant_types", R_("a public client cannot use client_credentials (RFC 6749 section 4.4)"))
        if draft.is_global:
            problems.add(
                "grant_types", R_("a global client cannot use client_credentials: it has no account to act in")
            )
    return grant_types


def _redirect_uris(problems: Problems, draft: Draft, grant_types: tuple[str, ...]) -> tuple[str, ...]:
    """Each URI checked on its own, its problem naming it and its 1-based line (the console
    takes them one per line; the API's list counts the same way)."""
    uris: dict[str, None] = {}
    for line, raw in enumerate(draft.redirect_uris, start=1):
        uri = raw.strip()
        if not uri:
            continue
        reason = redirect_uri.problem(uri)
        if reason is not None:
            problems.add("redirect_uri", R_("line %(line)s: %(reason)s", line=line, reason=reason))
        uris.setdefault(uri, None)
    if not uris and REDIRECTING_GRANTS.intersection(grant_types):
        problems.add(
            "redirect_uri",
            # TRANSLATORS: --redirect-uri is the command line's option; a page may leave it out.
            R_("the authorization_code and implicit grants need at least one redirect URI"),
        )
    return tuple(uris)


def _access_lifetime(problems: Problems, draft: Draft) -> int | None:
    raw = draft.access_token_lifetime
    jwt = draft.access_token_format == "jwt"
    if raw is None:
        return lifetimes.JWT_ACCESS_DEFAULT if jwt else lifetimes.ACCESS_DEFAULT
    if raw == "never":
        if jwt:
            problems.add(
                "access_token_lifetime", R_("JWT access tokens cannot be non-expiring; give a lifetime in seconds")
            )
        return None
    seconds = whole_number(str(raw), 12)
    if seconds is None:
        problems.add(
            "access_token_lifetime",
            R_("access token lifetime must be seconds or 'never', not %(value)s", value=repr(raw)[:40]),
        )
        return None
    try:
        return lifetimes.check_access_lifetime(seconds)
    except lifetimes.LifetimeOutOfRange as problem:
        problems.add("access_token_lifetime", problem.reason)
        return None


def _refresh_lifetime(problems: Problems, draft: Draft) -> int:
    raw = draft.refresh_token_lifetime
    if raw is None:
        return lifetimes.REFRESH_DEFAULT
    seconds = whole_number(str(raw), 12)
    if seconds is None:
        problems.add(
            "refresh_token_lifetime", R_("refresh token lifetime must be seconds, not %(value)s", value=repr(raw)[:40])
        )
        return lifetimes.REFRESH_DEFAULT
    try:
        return lifetimes.check_refresh_lifetime(seconds)
    except lifetimes.LifetimeOutOfRange as problem:
        problems.add("refresh_token_lifetime", problem.reason)
        return lifetimes.REFRESH_DEFAULT


def _allowed_scopes(problems: Problems, draft: Draft) -> tuple[str, ...]:
    allowed = tuple(dict.fromkeys(s for raw in draft.allowed_scopes for s in raw.split()))
    reason = unknown_scopes(allowed)
    if reason is not None:
        problems.add("allowed_scopes", reason)
    return allowed


def unknown_scopes(scopes: tuple[str, ...]) -> str | None:
    """Why an allow-list names scopes Tessera does not know, or None; worded as the OAuth
    error (invalid_scope) words it, and cut as it is when very long (then in English only)."""
    reason = scope_rules.unknown(scopes)
    if reason is None or safe_description(reason) == reason:
        return reason
    return safe_description(reason)


def _choices(problems: Problems, draft: Draft) -> None:
    if draft.access_token_format not in ACCESS_TOKEN_FORMATS:
        problems.add(
            "access_token_format",
            R_("access token format must be one of: %(formats)s", formats=", ".join(ACCESS_TOKEN_FORMATS)),
        )
    if draft.signing_alg not in SIGNING_ALGS:
        problems.add("signing_alg", R_("signing algorithm must be one of: %(algs)s", algs=", ".join(SIGNING_ALGS)))
    if draft.is_global and draft.introspection:
        problems.add("introspection", R_("a global client takes neither --owner nor --introspection"))


def _jwks(problems: Problems, draft: Draft) -> str | None:
    if not draft.jwks or not draft.jwks.strip():
        return None
    if draft.kind == "public":
        problems.add("jwks", R_("a public client has no credentials: make it confidential to register a key set"))
        return None
    normalized, problem = jwks_problem(draft.jwks.strip())
    if problem is not None:
        problems.add("jwks", problem)
    return normalized


def checked(draft: Draft, problems: Problems) -> dict[str, Any]:
    """The client's column values; every problem found is added to `problems` (the caller
    raises once it has added its own, such as a missing owner)."""
    grant_types = _grant_types(problems, draft)
    _choices(problems, draft)
    return {
        "name": _text(problems, "name", draft.name, 255, required=True),
        "identifier": _identifier(problems, draft.identifier),
        "description": _text(problems, "description", draft.description, MAX_DESCRIPTION, required=False, lines=True),
        "company": _text(problems, "company", draft.company, 255, required=False),
        "logo_url": _logo_url(problems, draft.logo_url),
        "redirect_uris": _redirect_uris(problems, draft, grant_types),
        "kind": draft.kind,
        "grant_types": grant_types,
        "allowed_scopes": _allowed_scopes(problems, draft),
        "access_token_lifetime": _access_lifetime(problems, draft),
        "refresh_token_lifetime": _refresh_lifetime(problems, draft),
        "access_token_format": draft.access_token_format,
        "signing_alg": draft.signing_alg,
        "introspection": draft.introspection,
        "require_par": draft.require_par,
        "jwks": _jwks(problems, draft),
        "require_dpop": bool(draft.require_dpop),
    }
