"""Registering and administering OAuth clients (INTERFACE.md sections 1, 3 and 6).

Creating and changing share one set of checks (client_rules.py) and raise Invalid naming
every bad field; a new secret for an existing client is client_secrets.py's. Every change
writes its audit entry in its own transaction; no entry quotes a secret or any part of one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from tessera.management import audit_events as ev
from tessera.management.client_jwks import MAX_JWKS_CHARS
from tessera.management.client_rules import Draft, checked
from tessera.management.errors import Invalid, NotFound, Problems
from tessera.model import Account, AuditEntry, Client
from tessera.protocol import secrets
from tessera.reasons import R_
from tessera.storage.client_rows import NewClient
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores

# Read a key set file only this far: one character past the limit, so the rule names it.
MAX_JWKS_READ = MAX_JWKS_CHARS + 1


@dataclass(frozen=True)
class ClientSpec:
    name: str
    identifier: str
    account: Account | None  # None: a global client
    redirect_uris: tuple[str, ...] = ()
    kind: str = "confidential"
    grant_types: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ()
    access_token_lifetime: str | int | None = None  # seconds, "never", or None for the default
    refresh_token_lifetime: str | int | None = None
    access_token_format: str = "opaque"
    signing_alg: str = "ES256"
    introspection: bool = False
    owner_email: str | None = None
    description: str = ""
    company: str = ""
    logo_url: str = ""
    owner_id: int | None = None  # the owner by id (the API: the calling admin); wins over owner_email
    require_par: bool = False  # authorization requests only through PAR (RFC 9126)
    jwks: str | None = None  # public JWK set (JSON text) for private_key_jwt; then no secret is issued
    require_dpop: bool = False  # RFC 9449 section 5.2 dpop_bound_access_tokens


@dataclass(frozen=True)
class ClientChanges:
    """A partial update: every field None stays as it is."""

    name: str | None = None
    identifier: str | None = None
    kind: str | None = None
    redirect_uris: tuple[str, ...] | None = None
    company: str | None = None
    description: str | None = None
    logo_url: str | None = None
    grant_types: tuple[str, ...] | None = None
    allowed_scopes: tuple[str, ...] | None = None
    access_token_lifetime: str | int | None = None  # seconds or "never"
    refresh_token_lifetime: str | int | None = None
    access_token_format: str | None = None
    signing_alg: str | None = None
    introspection: bool | None = None
    require_par: bool | None = None
    jwks: str | None = None  # a JWK set (JSON text); "" removes the registered one
    require_dpop: bool | None = None

    def names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


def _label(client: Client) -> str:
    return f"{client.name} ({client.identifier})"


def client_entry(account_id: int, actor: ev.Actor, action: str, client: Client, change: str, now: float) -> AuditEntry:
    """The audit entry of a change to `client` (client_secrets.py writes one too)."""
    return ev.entry(account_id, actor, action, ev.OAUTH_CLIENT, client.id, _label(client), change, now)


def _draft_of_spec(spec: ClientSpec) -> Draft:
    return Draft(
        name=spec.name,
        identifier=spec.identifier,
        is_global=spec.account is None,
        redirect_uris=spec.redirect_uris,
        kind=spec.kind,
        grant_types=spec.grant_types,
        allowed_scopes=spec.allowed_scopes,
        access_token_lifetime=spec.access_token_lifetime,
        refresh_token_lifetime=spec.refresh_token_lifetime,
        access_token_format=spec.access_token_format,
        signing_alg=spec.signing_alg,
        introspection=spec.introspection,
        description=spec.description,
        company=spec.company,
        logo_url=spec.logo_url,
        require_par=spec.require_par,
        jwks=spec.jwks,
        require_dpop=spec.require_dpop,
    )


async def _owner_id(stores: Stores, spec: ClientSpec, problems: Problems) -> int | None:
    if spec.account is None:
        if spec.owner_email:
            problems.add("owner", "a global client takes neither --owner nor --introspection")
        return None
    if spec.owner_id is not None:
        return spec.owner_id
    if spec.owner_email:
        owner = await stores.users.find_by_email(spec.account.id, spec.owner_email)
        if owner is None:
            problems.add("owner", f"no user with email {spec.owner_email!r} on account {spec.account.subdomain!r}")
        return None if owner is None else owner.id
    admin = await stores.users.first_admin(spec.account.id)
    if admin is None:
        problems.add(
            "owner",
            f"account {spec.account.subdomain!r} has no admin yet to own the client: create one with "
            "'tessera users create --role admin', or name an owner with --owner EMAIL",
        )
    return None if admin is None else admin.id


def _duplicate(identifier: str, account: Account | None) -> Invalid:
    if account is None:
        reason = R_("a client with identifier %(identifier)s already exists globally", identifier=repr(identifier))
    else:
        reason = R_(
            "a client with identifier %(identifier)s already exists on account %(account)s (or globally)",
            identifier=repr(identifier),
            account=repr(account.subdomain),
        )
    return Invalid.one("identifier", reason)


async def create(
    stores: Stores, spec: ClientSpec, now: float, actor: ev.Actor = ev.SYSTEM_ACTOR
) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (shown this once; None for public clients)."""
    problems = Problems()
    values = checked(_draft_of_spec(spec), problems)
    owner_id = await _owner_id(stores, spec, problems)
    problems.check()
    # A client with a key set authenticates with private_key_jwt only (client_auth.py): no secret.
    issue_secret = spec.kind != "public" and values["jwks"] is None
    secret = secrets.new_secret(secrets.CLIENT_SECRET_PREFIX) if issue_secret else None
    new = NewClient(
        account_id=None if spec.account is None else spec.account.id,
        user_id=owner_id,
        secret_hash=None if secret is None else secrets.digest(secret),
        secret_prefix="" if secret is None else secrets.shown(secret, secrets.CLIENT_SECRET_SHOWN),
        **values,
    )

    def record(client: Client) -> list[AuditEntry]:
        if client.account_id is None:
            return []  # a global client belongs to no account's log
        return [client_entry(client.account_id, actor, ev.CREATE, client, f"created {client.kind} client", now)]

    try:
        client = await stores.clients.create(new, now, record)
    except Duplicate:
        raise _duplicate(spec.identifier, spec.account) from None
    return client, secret


async def list_for_account(stores: Stores, account: Account, *, after_id: int = 0, limit: int = 100) -> list[Client]:
    return await stores.clients.list_for_account(account.id, after_id=after_id, limit=limit)


async def get(stores: Stores, account: Account, client_id: int) -> Client:
    client = await stores.clients.get_own(account.id, client_id)
    if client is None:
        raise NotFound(f"no client with id {client_id} on account {account.subdomain!r}")
    return client


async def get_by_identifier(stores: Stores, account: Account, identifier: str) -> Client:
    client = await stores.clients.find(account.id, identifier)
    if client is None or client.account_id != account.id:
        raise NotFound(f"no client with identifier {identifier!r} on account {account.subdomain!r}")
    return client


def _lifetime_as_given(seconds: int | None) -> str | int:
    return "never" if seconds is None else seconds


def current_draft(client: Client) -> Draft:
    """The client as it is, in the form its fields are given in."""
    return _draft_of_client(client, ClientChanges())


def _draft_of_client(client: Client, changes: ClientChanges) -> Draft:
    def pick(name: str, current: Any) -> Any:
        value = getattr(changes, name)
        return current if value is None else value

    return Draft(
        name=pick("name", client.name),
        identifier=pick("identifier", client.identifier),
        is_global=client.is_global,
        redirect_uris=pick("redirect_uris", client.redirect_uris),
        kind=pick("kind", client.kind),
        grant_types=pick("grant_types", tuple(sorted(client.grant_types))),
        allowed_scopes=pick("allowed_scopes", client.allowed_scopes),
        access_token_lifetime=pick("access_token_lifetime", _lifetime_as_given(client.access_token_lifetime)),
        refresh_token_lifetime=pick("refresh_token_lifetime", client.refresh_token_lifetime),
        access_token_format=pick("access_token_format", client.access_token_format),
        signing_alg=pick("signing_alg", client.signing_alg),
        introspection=pick("introspection", client.introspection),
        description=pick("description", client.description),
        company=pick("company", client.company),
        logo_url=pick("logo_url", client.logo_url),
        require_par=pick("require_par", client.require_par),
        jwks=pick("jwks", client.jwks),
        require_dpop=pick("require_dpop", client.require_dpop),
    )


def column_values(values: dict[str, Any], client: Client) -> dict[str, Any]:
    columns = dict(values)
    columns["redirect_uris"] = "\n".join(values["redirect_uris"])
    columns["grant_types"] = " ".join(values["grant_types"])
    columns["allowed_scopes"] = " ".join(values["allowed_scopes"])
    if (values["kind"] == "public" and not client.is_public) or (values["jwks"] and client.secret_hash):
        # A public client has no secret (RFC 6749 section 2.1), and one with a key set
        # authenticates with private_key_jwt only: forget the stored ones.
        columns |= {"secret_hash": None, "secret_prefix": "", "previous_secret_hash": None}
        columns["previous_secret_expires_at"] = None
    return columns


def _changed_fields(before: Client, after: Client, asked: list[str]) -> list[str]:
    renamed = {"redirect_uris": "redirect_uri"}
    return [renamed.get(name, name) for name in asked if getattr(before, name) != getattr(after, name)]


async def update(
    stores: Stores, account: Account, client_id: int, changes: ClientChanges, actor: ev.Actor, now: float
) -> Client:
    """Change the fields `changes` names (Invalid, NotFound); identifiers stay unique."""
    client = await get(stores, account, client_id)

    def record(updated: Client | None) -> list[AuditEntry]:
        if updated is None:
            return []
        changed = _changed_fields(client, updated, changes.names())
        text = f"changed {', '.join(changed) or 'nothing'}"
        if updated.jwks and client.secret_hash is not None:
            text += "; it authenticates with private_key_jwt, and its client secret no longer works"
        return [client_entry(account.id, actor, ev.UPDATE, updated, text, now)]

    return await save_changes(stores, account, client, changes, now, record)


async def save_changes(
    stores: Stores,
    account: Account | None,
    client: Client,
    changes: ClientChanges,
    now: float,
    record: Callable[[Client | None], list[AuditEntry]],
) -> Client:
    """`changes` to `client` (of `account`; None: a global one) checked as at creation and
    written with what `record` makes of the result (Invalid, NotFound)."""
    problems = Problems()
    values = checked(_draft_of_client(client, changes), problems)
    problems.check()
    account_id = None if account is None else account.id
    try:
        updated = await stores.clients.update(account_id, client.id, column_values(values, client), now, record)
    except Duplicate:
        raise _duplicate(str(values["identifier"]), account) from None
    if updated is None:
        where = "" if account is None else f" on account {account.subdomain!r}"
        raise NotFound(f"no {'global ' if account is None else ''}client with id {client.id}{where}")
    return updated


async def delete(stores: Stores, account: Account, client_id: int, actor: ev.Actor, now: float) -> None:
    """Delete the client; every token, code and consent it holds goes with it, at once."""

    def record(deleted: Client | None) -> list[AuditEntry]:
        if deleted is None:
            return []
        change = "deleted the client, revoking its tokens, codes and consents"
        return [client_entry(account.id, actor, ev.DESTROY, deleted, change, now)]

    if await stores.clients.delete_with_everything(account.id, client_id, record) is None:
        raise NotFound(f"no client with id {client_id} on account {account.subdomain!r}")
