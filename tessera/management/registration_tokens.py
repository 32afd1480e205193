"""Initial access tokens (RFC 7591 section 3): what an admin hands to a developer so that
their app may register itself while the account's policy is `token`.

A token is `tsi_` and 43 random characters, shown once when it is made and stored as a
SHA-256 digest. It registers one client (single use: a token that leaked after use is
worth nothing) and expires unused after `expires_in` seconds (default 7 days). Admins see
only its first characters, who made it, and whether and when it was used; revoking one
deletes it. Making and revoking one is written to the audit log, never the token itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.management import audit_events as ev
from tessera.management.errors import Invalid, NotFound
from tessera.model import Account, AuditEntry
from tessera.protocol import secrets
from tessera.storage.registrations import InitialToken
from tessera.storage.stores import Stores

DEFAULT_EXPIRES_IN = 7 * 86_400
MIN_EXPIRES_IN = 60
MAX_EXPIRES_IN = 90 * 86_400
SHOWN = secrets.TOKEN_SHOWN


@dataclass(frozen=True, slots=True)
class CreatedInitialToken:
    token: InitialToken
    full_token: str  # shown this once


def _label(token: InitialToken) -> str:
    return f"initial access token #{token.id}"


def check_expires_in(expires_in: object) -> int:
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN
    ):
        raise Invalid.one(
            "expires_in",
            f"expires_in must be {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds (90 days); got {expires_in!r:.40}",
        )
    return expires_in


async def create(
    stores: Stores, account: Account, actor: ev.Actor, now: float, expires_in: int = DEFAULT_EXPIRES_IN
) -> CreatedInitialToken:
    seconds = check_expires_in(expires_in)
    full = secrets.new_secret(secrets.INITIAL_ACCESS_TOKEN_PREFIX)
    values = {
        "account_id": account.id,
        "digest": secrets.digest(full),
        "token_prefix": secrets.shown(full, SHOWN),
        "created_by_id": actor.id,
        "created_by_name": actor.name[:255],
        "created_at": now,
        "expires_at": now + seconds,
    }

    def record(token: InitialToken) -> list[AuditEntry]:
        change = f"created an initial access token for dynamic client registration, valid {seconds} seconds"
        return [ev.entry(account.id, actor, ev.CREATE, ev.REGISTRATION_TOKEN, token.id, _label(token), change, now)]

    token = await stores.registrations.create_initial(values, record)
    return CreatedInitialToken(token, full)


async def list_tokens(stores: Stores, account: Account, limit: int = 100) -> list[InitialToken]:
    """The account's initial access tokens, newest first (used and expired ones included)."""
    return await stores.registrations.list_initial(account.id, limit)


async def get(stores: Stores, account: Account, token_id: int) -> InitialToken:
    """One of the account's initial access tokens, as admins see it (used and expired ones too)."""
    token = await stores.registrations.get_initial(account.id, token_id)
    if token is None:
        raise NotFound(f"no initial access token with id {token_id} on account {account.subdomain!r}")
    return token


async def revoke(stores: Stores, account: Account, token_id: int, actor: ev.Actor, now: float) -> InitialToken:
    def record(token: InitialToken | None) -> list[AuditEntry]:
        if token is None:
            return []
        change = "revoked an initial access token" + (" (already used)" if token.used_at is not None else "")
        return [ev.entry(account.id, actor, ev.REVOKE, ev.REGISTRATION_TOKEN, token.id, _label(token), change, now)]

    token = await stores.registrations.delete_initial(account.id, token_id, record)
    if token is None:
        raise NotFound(f"no initial access token with id {token_id} on account {account.subdomain!r}")
    return token
