"""Resource indicators: RFC 8707 sections 2, 2.1 and 2.2; the audience of access tokens
(RFC 9068 section 3, RFC 7662 section 2.2).

A token is for one or more resources, its audience. Each account's API, `ISSUER/api/v2`,
is a resource of the account without being registered; an admin may register others
(management/resources.py). A token row stores its audience; the empty audience means the
account's API, which is what every token was for before resources existed and what a
request without `resource` still gets.

Where the audience comes from, by grant:

| request                         | audience                                              |
|---------------------------------|-------------------------------------------------------|
| authorization request           | the `resource`s sent, each a resource of the account  |
| authorization_code, refresh     | those of the code or refresh token, or fewer if sent  |
| client_credentials, password    | the `resource`s sent, each a resource of the account  |

A refresh may narrow the audience and never widen it (section 2.2); the new refresh token
keeps the original audience, as it keeps the original scopes (RFC 6749 section 6).

The edge (web/params.py) joins repeated `resource` parameters with spaces, which no
absolute URI contains, so they travel as one value through the login and consent pages.
The store is asked only when a `resource` names something other than the account's API:
a request without `resource` costs nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera import paths
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidScope, InvalidTarget, echo
from tessera.protocol.ports import ResourceStore

PARAMETER = "resource"
MAX_RESOURCES = 10


def account_api(issuer: str) -> str:
    """The account's own API as a protected resource (INTERFACE.md section 8)."""
    return issuer + paths.API


def audience_of(audience: tuple[str, ...], issuer: str) -> tuple[str, ...]:
    """What a stored audience means: the empty one is the account's API."""
    return audience or (account_api(issuer),)


def aud_claim(audience: tuple[str, ...], issuer: str) -> str | list[str]:
    """RFC 9068 section 2.2 / RFC 7519 section 4.1.3: one string, or an array of them."""
    full = audience_of(audience, issuer)
    return full[0] if len(full) == 1 else list(full)


def _malformed(uri: str) -> str | None:
    """Why `uri` is not a resource indicator (RFC 8707 section 2), or None."""
    if "#" in uri:
        return f"resource {echo(uri, 200)} has a fragment; a resource indicator must not (RFC 8707 section 2)"
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    if parts is None or not parts.scheme or not (parts.netloc or parts.path):
        return (
            f"resource {echo(uri, 200)} is not an absolute URI; send the resource's URI, "
            "such as https://api.example.com/ (RFC 8707 section 2)"
        )
    return None


def requested(params: Mapping[str, str]) -> tuple[str, ...]:
    """The `resource` values of a request, each an absolute URI without a fragment, in the
    order sent, without repeats; () when none was sent."""
    raw = params.get(PARAMETER)
    if raw is None:
        return ()
    uris = tuple(dict.fromkeys(raw.split()))
    if len(uris) > MAX_RESOURCES:
        raise InvalidTarget(f"at most {MAX_RESOURCES} resource parameters may be sent in one request")
    for uri in uris:
        reason = _malformed(uri)
        if reason is not None:
            raise InvalidTarget(reason)
    return uris


@dataclass(frozen=True, slots=True)
class Target:
    """The resources a token will be for: their URIs (empty: the account's API), and the
    scopes the registered ones allow (empty: no resource limits them)."""

    audience: tuple[str, ...] = ()
    limits: tuple[tuple[str, tuple[str, ...]], ...] = ()


DEFAULT = Target()


async def resolve(uris: tuple[str, ...], account_id: int, issuer: str, resources: ResourceStore) -> Target:
    """Each requested URI must be the account's API or a registered resource of it, else
    invalid_target naming it (section 2). Nothing requested: the default, unasked."""
    if not uris:
        return DEFAULT
    api = account_api(issuer)
    others = tuple(uri for uri in uris if uri != api)
    found = await resources.find(account_id, others) if others else {}
    unknown = [uri for uri in others if uri not in found]
    if unknown:
        raise InvalidTarget(
            f"resource {echo(unknown[0], 200)} is not a resource of this account; use {api} (the account's API) "
            "or a resource an administrator registered"
        )
    limits = tuple((r.uri, r.scopes) for r in (found[uri] for uri in others) if r.scopes)
    return Target(audience=() if uris == (api,) else uris, limits=limits)


def within(uris: tuple[str, ...], granted: tuple[str, ...], issuer: str) -> tuple[str, ...]:
    """Section 2.2 (and 2.1 for a code): a token request may name fewer resources than
    were granted, never others. Nothing named: all that was granted."""
    if not uris:
        return granted
    allowed = audience_of(granted, issuer)
    outside = [uri for uri in uris if uri not in allowed]
    if outside:
        raise InvalidTarget(
            f"resource {echo(outside[0], 200)} was not part of the authorization; this grant is for "
            f"{' '.join(allowed)[:300]}, and a token request may only keep or narrow that"
        )
    if uris == (account_api(issuer),):
        return ()  # stored as the default it is
    return uris


async def still_registered(
    audience: tuple[str, ...], scopes: tuple[str, ...], account_id: int, issuer: str, resources: ResourceStore
) -> tuple[str, ...]:
    """A code or refresh token for registered resources mints tokens for them only while
    they are registered (a deleted resource gets no new tokens), with the scopes they allow.
    The account's API (and the empty audience) needs no lookup."""
    if not audience:
        return scopes
    return limit_scopes(scopes, await resolve(audience, account_id, issuer, resources))


def limit_scopes(scopes: tuple[str, ...], target: Target) -> tuple[str, ...]:
    """A registered resource may allow only some scopes: a token for it carries only those
    (and OIDC scopes, which are about the user, not the resource). A broad scope asked for
    (`read`) yields the narrower ones the resources allow (`tickets:read`). None left:
    invalid_scope saying what the resource allows."""
    if not target.limits:
        return scopes

    def fits(scope: str) -> bool:
        return all(scope_rules.covers(allowed, (scope,)) for _, allowed in target.limits)

    kept = [s for s in scopes if s in scope_rules.OIDC_SCOPES or fits(s)]
    for _, allowed in target.limits:
        for scope in allowed:
            if scope_rules.covers(scopes, (scope,)) and fits(scope) and not scope_rules.covers(kept, (scope,)):
                kept.append(scope)
    if any(s not in scope_rules.OIDC_SCOPES for s in kept):
        return tuple(kept)
    uri, allowed = next(
        ((u, a) for u, a in target.limits if not any(scope_rules.covers(scopes, (x,)) for x in a)), target.limits[0]
    )
    raise InvalidScope(
        f"none of the scopes {echo(' '.join(scopes), 200)} is allowed for the resource {echo(uri, 200)}, "
        f"which allows: {' '.join(allowed)}"
    )
