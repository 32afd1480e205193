"""Registering OAuth clients (INTERFACE.md sections 1 and 3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tessera.management.errors import ManagementError
from tessera.model import (
    ACCESS_TOKEN_FORMATS,
    CLIENT_KINDS,
    DEFAULT_GRANT_TYPES,
    GRANT_TYPES,
    SIGNING_ALGS,
    Account,
    Client,
)
from tessera.protocol import lifetimes, redirect_uri, secrets
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidScope
from tessera.protocol.numbers import whole_number
from tessera.storage.clients import NewClient
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}$")
_REDIRECTING_GRANTS = {"authorization_code", "implicit"}


@dataclass(frozen=True)
class ClientSpec:
    name: str
    identifier: str
    account: Account | None  # None: a global client
    redirect_uris: tuple[str, ...] = ()
    kind: str = "confidential"
    grant_types: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = ()
    access_token_lifetime: str | None = None  # seconds, "never", or None for the default
    refresh_token_lifetime: int | None = None
    access_token_format: str = "opaque"
    signing_alg: str = "ES256"
    introspection: bool = False
    owner_email: str | None = None
    description: str = ""
    company: str = ""
    logo_url: str = ""


def _check_names(spec: ClientSpec) -> None:
    if not spec.name.strip() or len(spec.name) > 255:
        raise ManagementError("client name must be 1 to 255 characters")
    if not _IDENTIFIER.match(spec.identifier):
        raise ManagementError(
            f"identifier {spec.identifier!r} is not valid: use letters, digits, '_', '.' and '-' "
            "(up to 255, starting with a letter or digit)"
        )


def _check_kind_and_grants(spec: ClientSpec) -> tuple[str, ...]:
    if spec.kind not in CLIENT_KINDS:
        raise ManagementError(f"kind {spec.kind!r} is not one of: {', '.join(CLIENT_KINDS)}")
    grant_types = tuple(dict.fromkeys(spec.grant_types or DEFAULT_GRANT_TYPES))
    unknown = [g for g in grant_types if g not in GRANT_TYPES]
    if unknown:
        later = " (the device grant, RFC 8628, is not implemented yet)" if unknown[0] == "device_code" else ""
        raise ManagementError(f"grant type {unknown[0]!r} is not one of: {', '.join(GRANT_TYPES)}{later}")
    if "client_credentials" in grant_types:
        if spec.kind == "public":
            raise ManagementError("a public client cannot use client_credentials (RFC 6749 section 4.4)")
        if spec.account is None:
            raise ManagementError("a global client cannot use client_credentials: it has no account to act in")
    return grant_types


def _check_redirect_uris(spec: ClientSpec, grant_types: tuple[str, ...]) -> tuple[str, ...]:
    uris = tuple(dict.fromkeys(u.strip() for u in spec.redirect_uris if u.strip()))
    for uri in uris:
        reason = redirect_uri.problem(uri)
        if reason is not None:
            raise ManagementError(f"bad redirect URI: {reason}")
    if not uris and _REDIRECTING_GRANTS.intersection(grant_types):
        raise ManagementError("the authorization_code and implicit grants need at least one --redirect-uri")
    return uris


def _access_lifetime(spec: ClientSpec) -> int | None:
    raw = spec.access_token_lifetime
    if raw is None:
        return lifetimes.JWT_ACCESS_DEFAULT if spec.access_token_format == "jwt" else lifetimes.ACCESS_DEFAULT
    if raw == "never":
        if spec.access_token_format == "jwt":
            raise ManagementError("JWT access tokens cannot be non-expiring; give a lifetime in seconds")
        return None
    seconds = whole_number(raw, 12)
    if seconds is None:
        raise ManagementError(f"access token lifetime must be seconds or 'never', not {raw!r}")
    try:
        return lifetimes.check_access_lifetime(seconds)
    except lifetimes.LifetimeOutOfRange as problem:
        raise ManagementError(str(problem)) from None


def _refresh_lifetime(spec: ClientSpec) -> int:
    if spec.refresh_token_lifetime is None:
        return lifetimes.REFRESH_DEFAULT
    try:
        return lifetimes.check_refresh_lifetime(spec.refresh_token_lifetime)
    except lifetimes.LifetimeOutOfRange as problem:
        raise ManagementError(str(problem)) from None


def _allowed_scopes(spec: ClientSpec) -> tuple[str, ...]:
    allowed = tuple(dict.fromkeys(s for raw in spec.allowed_scopes for s in raw.split()))
    try:
        scope_rules.validate(allowed, ())
    except InvalidScope as problem:
        raise ManagementError(problem.description) from None
    return allowed


async def _owner_id(stores: Stores, spec: ClientSpec) -> int | None:
    if spec.account is None:
        if spec.owner_email or spec.introspection:
            raise ManagementError("a global client takes neither --owner nor --introspection")
        return None
    if spec.owner_email:
        owner = await stores.users.find_by_email(spec.account.id, spec.owner_email)
        if owner is None:
            raise ManagementError(f"no user with email {spec.owner_email!r} on account {spec.account.subdomain!r}")
        return owner.id
    admin = await stores.users.first_admin(spec.account.id)
    if admin is None:
        raise ManagementError(
            f"account {spec.account.subdomain!r} has no admin yet to own the client: create one with "
            "'tessera users create --role admin', or name an owner with --owner EMAIL"
        )
    return admin.id


async def create(stores: Stores, spec: ClientSpec, now: float) -> tuple[Client, str | None]:
    """Register a client; returns it and its secret (shown this once; None for public clients)."""
    _check_names(spec)
    grant_types = _check_kind_and_grants(spec)
    uris = _check_redirect_uris(spec, grant_types)
    if spec.access_token_format not in ACCESS_TOKEN_FORMATS:
        raise ManagementError(f"access token format must be one of: {', '.join(ACCESS_TOKEN_FORMATS)}")
    if spec.signing_alg not in SIGNING_ALGS:
        raise ManagementError(f"signing algorithm must be one of: {', '.join(SIGNING_ALGS)}")
    secret = None if spec.kind == "public" else secrets.new_secret(secrets.CLIENT_SECRET_PREFIX)
    new = NewClient(
        account_id=None if spec.account is None else spec.account.id,
        identifier=spec.identifier,
        name=spec.name.strip(),
        description=spec.description,
        company=spec.company,
        logo_url=spec.logo_url,
        redirect_uris=uris,
        kind=spec.kind,
        grant_types=grant_types,
        allowed_scopes=_allowed_scopes(spec),
        access_token_lifetime=_access_lifetime(spec),
        refresh_token_lifetime=_refresh_lifetime(spec),
        access_token_format=spec.access_token_format,
        introspection=spec.introspection,
        user_id=await _owner_id(stores, spec),
        secret_hash=None if secret is None else secrets.digest(secret),
        secret_prefix="" if secret is None else secrets.shown(secret, secrets.CLIENT_SECRET_SHOWN),
        signing_alg=spec.signing_alg,
    )
    try:
        client = await stores.clients.create(new, now)
    except Duplicate:
        where = "globally" if spec.account is None else f"on account {spec.account.subdomain!r} (or globally)"
        raise ManagementError(f"a client with identifier {spec.identifier!r} already exists {where}") from None
    return client, secret


async def regenerate_secret(stores: Stores, client: Client, now: float) -> tuple[Client, str]:
    """A new secret for a confidential client; the old one stops working at once."""
    if client.is_public:
        raise ManagementError(f"client {client.identifier!r} is public and has no secret")
    secret = secrets.new_secret(secrets.CLIENT_SECRET_PREFIX)
    updated = await stores.clients.set_secret(
        client.id, secrets.digest(secret), secrets.shown(secret, secrets.CLIENT_SECRET_SHOWN), now
    )
    if updated is None:
        raise ManagementError(f"client {client.identifier!r} no longer exists")
    return updated, secret
