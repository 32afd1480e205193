"""Dynamic client registration (RFC 7591 section 3) and its management (RFC 7592 section 2).

Who may register is the account's policy: `off` (the endpoint does not exist), `token` (an
initial access token an admin made, registration_tokens.py) or `open` (anyone; the web layer
throttles it per source address). Either way the client is limited as
registration_metadata.py says and is marked `registration="dynamic"`: the consent page and
the console tell users that its name is its own claim.

A registration access token (`tsg_`, stored as a digest) lets the client read, replace and
delete its registration at ISSUER/oauth/register/CLIENT_ID. A replacement (PUT) issues a
new one and the old one stops working in the same transaction (RFC 7592 section 2.2
allows it; a token that is rotated on every change is worth less to whoever copies it).
Reading (GET) does not rotate it: a client that lost the answer to a GET would lose its
registration.
"""

from __future__ import annotations

import dataclasses
import secrets as _random
from dataclasses import dataclass
from typing import Any

from tessera import paths
from tessera.management import audit_events as ev
from tessera.management import clients as client_admin
from tessera.management import registration_metadata as rfc7591
from tessera.management import registration_response
from tessera.management.client_rules import IDENTIFIER, checked
from tessera.management.errors import Invalid, NotFound, Problems
from tessera.model import Account, AuditEntry, Client
from tessera.protocol import scopes as scope_rules
from tessera.protocol import secrets
from tessera.protocol.errors import InvalidClientMetadata, InvalidRequest, InvalidToken
from tessera.storage.client_rows import NewClient
from tessera.storage.registrations import InitialToken, Registration, TokenNotClaimed
from tessera.storage.stores import Stores

OFF, TOKEN, OPEN = "off", "token", "open"
IDENTIFIER_PREFIX = "reg-"


class RegistrationOff(Exception):
    """The account's policy is `off`: the endpoint does not exist (404)."""


def _bad_token(what: str) -> InvalidToken:
    return InvalidToken(f"the {what} is missing, unknown, used, expired or revoked")


def registration_client_uri(issuer: str, identifier: str) -> str:
    return issuer + paths.REGISTER + "/" + identifier


@dataclass(frozen=True, slots=True)
class Admitted:
    """Who may register: anyone (`open`), or the holder of this initial access token."""

    initial: InitialToken | None = None
    digest: bytes | None = None


async def admit(stores: Stores, account: Account, bearer: str | None, now: float) -> Admitted:
    """RFC 7591 section 3: who may register here. Anyone under `open`; under `token`, the
    holder of a usable initial access token (read only here: it is claimed in the
    registration's transaction); RegistrationOff under `off`; InvalidToken (401) for a
    missing or spent token."""
    if account.registration_policy == OPEN:
        return Admitted()
    if account.registration_policy != TOKEN:
        raise RegistrationOff()
    if not bearer:
        raise InvalidToken(
            "registration on this account needs an initial access token from an admin: "
            "send Authorization: Bearer tsi_..."
        )
    digest = secrets.digest(bearer)
    found = await stores.registrations.find_initial(account.id, digest)
    if found is None or not found.usable(now):
        raise _bad_token("initial access token")
    return Admitted(found, digest)


def _checked(metadata: rfc7591.Metadata) -> dict[str, Any]:
    problems = Problems()
    values = checked(metadata.draft, problems)
    try:
        problems.check()
    except Invalid as error:
        raise rfc7591.refusal(error) from None
    return values


def _registrant(initial: InitialToken | None, address: str | None) -> tuple[ev.Actor, str]:
    if initial is None:
        return ev.Actor(None, "Anonymous (open registration)", address), "registered itself (open registration)"
    actor = ev.Actor(None, f"Holder of an initial access token from {initial.created_by_name}"[:255], address)
    return actor, f"registered itself with initial access token #{initial.id}"


async def register(
    stores: Stores,
    account: Account,
    body: Any,
    admitted: Admitted,
    issuer: str,
    now: float,
    address: str | None,
) -> dict[str, Any]:
    """RFC 7591 section 3.2.1: the new client's registration (201). Raises the section 3.2.2
    errors for bad metadata, and InvalidToken when the initial token was spent meanwhile."""
    # Not a secret (the registration access token and the client secret are): 128 random
    # bits in hex, so that it never starts with a '-' or '_' a shell or a URL might mangle.
    identifier = IDENTIFIER_PREFIX + _random.token_hex(16)
    metadata = rfc7591.read(body, identifier)
    values = _checked(metadata)
    keyless = metadata.auth_method in (rfc7591.NONE, rfc7591.PRIVATE_KEY_JWT)
    secret = None if keyless else secrets.new_secret(secrets.CLIENT_SECRET_PREFIX)
    access_token = secrets.new_secret(secrets.REGISTRATION_ACCESS_TOKEN_PREFIX)
    new = NewClient(
        account_id=account.id,
        user_id=None,  # no client_credentials grant: the client never acts as anyone
        secret_hash=None if secret is None else secrets.digest(secret),
        secret_prefix="" if secret is None else secrets.shown(secret, secrets.CLIENT_SECRET_SHOWN),
        registration="dynamic",
        **values,
    )
    actor, change = _registrant(admitted.initial, address)

    def record(client: Client) -> list[AuditEntry]:
        label = f"{client.name} ({client.identifier})"
        return [ev.entry(account.id, actor, ev.REGISTER, ev.OAUTH_CLIENT, client.id, label, change, now)]

    try:
        client = await stores.registrations.register(
            new,
            secrets.digest(access_token),
            metadata.auth_method,
            admitted.digest,
            now,
            record,
        )
    except TokenNotClaimed:
        raise _bad_token("initial access token") from None
    uri = registration_client_uri(issuer, client.identifier)
    return registration_response.response(client, metadata.auth_method, now, uri, access_token, secret)


@dataclass(frozen=True, slots=True)
class Managed:
    """A registration its client proved it may manage (RFC 7592 section 2)."""

    registration: Registration
    access_token: str

    @property
    def client(self) -> Client:
        return self.registration.client


async def authenticate(stores: Stores, account: Account, identifier: str, bearer: str | None) -> Managed:
    """RFC 7592 section 2: the registration access token must be the client's current one.
    An unknown client answers like a wrong token (section 2.1: 401)."""
    if not bearer:
        raise InvalidToken("send the registration access token: Authorization: Bearer tsg_...")
    if not IDENTIFIER.match(identifier):  # nothing such is stored, and no NUL reaches PostgreSQL
        raise _bad_token("registration access token")
    found = await stores.registrations.find(account.id, identifier)
    if found is None or not secrets.matches(bearer, found.token_digest):
        raise _bad_token("registration access token")
    return Managed(found, bearer)


def _actor(client: Client, address: str | None) -> ev.Actor:
    return ev.Actor(None, f"{client.name} (registration access token)"[:255], address)


def read(managed: Managed, issuer: str) -> dict[str, Any]:
    """RFC 7592 section 2.1: the registration as it is now; the secret is never shown again."""
    reg = managed.registration
    uri = registration_client_uri(issuer, reg.client.identifier)
    return registration_response.response(
        reg.client, reg.token_endpoint_auth_method, reg.created_at, uri, managed.access_token
    )


def _same_client(managed: Managed, body: dict[str, Any]) -> None:
    """RFC 7592 section 2.2: client_id must be the client's; a client_secret, if sent, must
    be the current one (it cannot be changed this way)."""
    client = managed.client
    if body.get("client_id") != client.identifier:
        raise InvalidRequest("client_id must be sent and be this registration's client_id (RFC 7592 section 2.2)")
    sent = body.get("client_secret")
    if sent is not None and (not isinstance(sent, str) or not secrets.matches(sent, client.secret_hash)):
        raise InvalidRequest("client_secret may not be changed here; send the current one or leave it out")


def _keeping_admin_choices(metadata: rfc7591.Metadata, client: Client) -> rfc7591.Metadata:
    """What a client's own update may not undo. RFC 7592 section 2.2 lets the server replace
    values it does not accept, and the answer shows the values kept. So the fields only an
    admin sets (token lifetimes and format, signing algorithm, introspection, description,
    company) stay as they are; a requirement (PAR, DPoP) is never lifted; and the scopes
    may be kept or narrowed, never widened past those the client has now (an admin may
    have narrowed them): a client that needs more registers anew."""
    current = client_admin.current_draft(client)
    asked = metadata.draft
    scopes = asked.allowed_scopes or current.allowed_scopes
    wider = scope_rules.beyond(current.allowed_scopes, scopes)
    if wider:
        raise InvalidClientMetadata(
            f"scope: {' '.join(wider)} goes beyond this client's scopes ({' '.join(current.allowed_scopes)}); "
            "an update may keep or narrow them: register a new client to ask for more"
        )
    draft = dataclasses.replace(
        asked,
        allowed_scopes=scopes,
        access_token_lifetime=current.access_token_lifetime,
        refresh_token_lifetime=current.refresh_token_lifetime,
        access_token_format=current.access_token_format,
        signing_alg=current.signing_alg,
        introspection=current.introspection,
        description=current.description,
        company=current.company,
        require_par=asked.require_par or current.require_par,
        require_dpop=asked.require_dpop or current.require_dpop,
    )
    return rfc7591.Metadata(draft, metadata.auth_method)


async def replace(
    stores: Stores, account: Account, managed: Managed, body: Any, issuer: str, now: float, address: str | None
) -> dict[str, Any]:
    """RFC 7592 section 2.2: every field is replaced (an omitted one returns to its default),
    checked as a registration is, and a new registration access token is issued."""
    if not isinstance(body, dict):
        raise InvalidClientMetadata("the body must be a JSON object of client metadata (RFC 7592 section 2.2)")
    rfc7591.refuse_server_fields(body)
    _same_client(managed, body)
    client = managed.client
    metadata = rfc7591.read(body, client.identifier, tuple(client.grant_types))
    if (metadata.auth_method == rfc7591.NONE) != client.is_public:
        # An update replaces every field: an omitted method means the default, a secret.
        omitted = "token_endpoint_auth_method" not in body
        raise InvalidClientMetadata(
            "this client is public: send token_endpoint_auth_method with the value none (an update replaces "
            "every field, and left out it means client_secret_basic)"
            if omitted and client.is_public
            else "token_endpoint_auth_method cannot change between none and a client secret; register a new client"
        )
    if (metadata.auth_method == rfc7591.PRIVATE_KEY_JWT) != bool(client.jwks):
        raise InvalidClientMetadata(
            "token_endpoint_auth_method cannot change between private_key_jwt and a client secret; "
            "register a new client"
        )
    values = _checked(_keeping_admin_choices(metadata, client))
    columns = client_admin.column_values(values, client)
    new_token = secrets.new_secret(secrets.REGISTRATION_ACCESS_TOKEN_PREFIX)
    actor = _actor(client, address)

    def record(updated: Client) -> list[AuditEntry]:
        change = "replaced its registration (RFC 7592); a new registration access token was issued"
        label = f"{updated.name} ({updated.identifier})"
        return [ev.entry(account.id, actor, ev.UPDATE, ev.OAUTH_CLIENT, updated.id, label, change, now)]

    try:
        updated = await stores.registrations.replace(
            account.id,
            client.id,
            managed.registration.token_digest,
            secrets.digest(new_token),
            metadata.auth_method,
            columns,
            now,
            record,
        )
    except TokenNotClaimed:
        raise _bad_token("registration access token") from None
    uri = registration_client_uri(issuer, updated.identifier)
    return registration_response.response(
        updated, metadata.auth_method, managed.registration.created_at, uri, new_token
    )


async def delete(stores: Stores, account: Account, managed: Managed, now: float, address: str | None) -> None:
    """RFC 7592 section 2.3: the client and every token, code and consent it holds go, as
    when an admin deletes a client."""
    try:
        await client_admin.delete(stores, account, managed.client.id, _actor(managed.client, address), now)
    except NotFound:  # deleted meanwhile: RFC 7592 section 2.1 answers an unknown client with 401
        raise _bad_token("registration access token") from None
