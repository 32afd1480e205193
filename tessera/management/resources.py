"""Registering protected resources an account's tokens may be for (RFC 8707; INTERFACE.md
section 8): create, list, delete, each audited in the change's own transaction.

A resource is an absolute URI without a fragment (RFC 8707 section 2): https, or http on
localhost and loopback addresses, as redirect URIs are. It may allow only some scopes; a
token for it then carries only those. The account's own API is a resource without being
registered, so it cannot be registered again.

Deleting a resource stops new tokens for it; tokens already issued for it keep working
until they expire or are revoked (a resource server that wants them gone sooner revokes
them, or checks them by introspection and the user's app is revoked in the console).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera import shown_text
from tessera.management import audit_events as ev
from tessera.management.client_rules import unknown_scopes
from tessera.management.errors import Invalid, NotFound, Problems
from tessera.model import Account, AuditEntry, Resource
from tessera.protocol import redirect_uri, resource_indicators
from tessera.protocol import scopes as scope_rules
from tessera.reasons import R_, Reason
from tessera.storage.errors import Duplicate
from tessera.storage.resources import NewResource
from tessera.storage.stores import Stores

MAX_URI = 2000
MAX_NAME = 255


@dataclass(frozen=True)
class ResourceSpec:
    uri: str
    name: str = ""  # empty: the URI's host
    scopes: tuple[str, ...] = ()  # empty: any scope


def _uri_problem(uri: str, issuer: str) -> Reason | None:
    if not uri or any(c.isspace() for c in uri) or shown_text.CONTROL.search(uri):
        return R_("a resource URI may not be empty or contain spaces or control characters")
    if len(uri) > MAX_URI:
        return R_("a resource URI may be at most %(limit)s characters", limit=MAX_URI)
    shown = repr(uri[:200])
    if not uri.isascii():
        # RFC 3986 section 2: a URI is ASCII; other characters are percent-encoded.
        return R_("%(uri)s has characters outside ASCII; percent-encode them (RFC 3986 section 2.1)", uri=shown)
    if "#" in uri:
        return R_("%(uri)s has a fragment; a resource URI may not (RFC 8707 section 2)", uri=shown)
    try:
        parts = urlsplit(uri)
        _ = parts.port
    except ValueError:
        return R_("%(uri)s cannot be parsed (check the port: it must be a number up to 65535)", uri=shown)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return R_("%(uri)s is not an absolute https URI such as https://api.example.com/", uri=shown)
    if parts.username is not None or parts.password is not None:
        return R_("%(uri)s carries user information; remove the user:password@ part", uri=shown)
    if scheme == "http" and redirect_uri.problem(uri) is not None:
        return R_("%(uri)s uses http; use https (http is allowed only for localhost and loopback addresses)", uri=shown)
    if uri == resource_indicators.account_api(issuer):
        return R_("%(uri)s is the account's own API, which is a resource without being registered", uri=repr(uri))
    return None


def _scopes(problems: Problems, raw: tuple[str, ...]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(s for item in raw for s in item.split()))
    reason = unknown_scopes(wanted)
    if reason is not None:
        problems.add("scopes", reason)
        return wanted
    about_users = [s for s in wanted if s in scope_rules.OIDC_SCOPES]
    if about_users:
        problems.add(
            "scopes",
            R_(
                "%(scopes)s is about the user, not a resource; list the API scopes the resource accepts",
                scopes=" ".join(about_users),
            ),
        )
    return wanted


def _label(resource: Resource) -> str:
    return f"{resource.name} ({resource.uri})"


def _entry(account: Account, actor: ev.Actor, action: str, resource: Resource, change: str, now: float) -> AuditEntry:
    return ev.entry(account.id, actor, action, ev.RESOURCE, resource.id, _label(resource), change, now)


async def create(
    stores: Stores, account: Account, issuer: str, spec: ResourceSpec, now: float, actor: ev.Actor = ev.SYSTEM_ACTOR
) -> Resource:
    """Register a resource of the account (Invalid naming every bad field)."""
    problems = Problems()
    uri = spec.uri.strip()
    reason = _uri_problem(uri, issuer)
    if reason is not None:
        problems.add("uri", reason)
    name = spec.name.strip() or (urlsplit(uri).hostname or uri if reason is None else "")
    if len(name) > MAX_NAME:
        problems.add("name", R_("a name may be at most %(limit)s characters", limit=MAX_NAME))
    if shown_text.CONTROL.search(name):
        problems.add("name", R_("a name may not contain control characters"))
    elif (shown := shown_text.name_problem("name", name)) is not None:
        problems.add("name", shown)
    scopes = _scopes(problems, spec.scopes)
    problems.check()

    def record(resource: Resource) -> list[AuditEntry]:
        allowed = f"scopes {' '.join(resource.scopes)}" if resource.scopes else "any scope"
        return [_entry(account, actor, ev.CREATE, resource, f"registered resource, allowing {allowed}", now)]

    try:
        return await stores.resources.create(NewResource(account.id, uri, name, scopes), now, record)
    except Duplicate:
        raise Invalid.one(
            "uri",
            R_(
                "%(uri)s is already a resource of account %(account)s",
                uri=repr(uri),
                account=repr(account.subdomain),
            ),
        ) from None


async def list_for_account(stores: Stores, account: Account, *, after_id: int = 0, limit: int = 100) -> list[Resource]:
    return await stores.resources.list_for_account(account.id, after_id=after_id, limit=limit)


async def get(stores: Stores, account: Account, resource_id: int) -> Resource:
    resource = await stores.resources.get(account.id, resource_id)
    if resource is None:
        raise NotFound(f"no resource with id {resource_id} on account {account.subdomain!r}")
    return resource


async def find_by_uri(stores: Stores, account: Account, uri: str) -> Resource:
    found = await stores.resources.find(account.id, (uri,))
    if uri not in found:
        raise NotFound(f"no resource {uri!r} on account {account.subdomain!r}")
    return found[uri]


async def delete(stores: Stores, account: Account, resource_id: int, actor: ev.Actor, now: float) -> Resource:
    """Unregister a resource: no new token may be for it."""

    def record(deleted: Resource | None) -> list[AuditEntry]:
        if deleted is None:
            return []
        return [_entry(account, actor, ev.DESTROY, deleted, "deleted resource; no new tokens may be for it", now)]

    deleted = await stores.resources.delete(account.id, resource_id, record)
    if deleted is None:
        raise NotFound(f"no resource with id {resource_id} on account {account.subdomain!r}")
    return deleted
