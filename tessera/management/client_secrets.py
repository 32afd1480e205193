"""A new secret for an existing client (the API's generate_secret, the console's
regenerate, the CLI's rotate-secret): the old one stops at once or keeps working for an
overlap of up to 7 days, so that an app can roll its secret without downtime.

Apart from clients.py because rotation never goes through the field checks
(client_rules.py) that creating and changing share: it reads the stored client and
writes only its secret columns. As there, the audit entry quotes no secret.
"""

from __future__ import annotations

from tessera.management import audit_events as ev
from tessera.management.clients import client_entry, get
from tessera.management.errors import Invalid, ManagementError
from tessera.model import Account, AuditEntry, Client
from tessera.protocol import secrets
from tessera.storage.stores import Stores

MAX_PREVIOUS_SECRET_OVERLAP = 604_800  # 7 days


def _overlap(seconds: int) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_PREVIOUS_SECRET_OVERLAP:
        raise Invalid.one(
            "previous_secret_expires_in",
            f"previous_secret_expires_in must be 0 to {MAX_PREVIOUS_SECRET_OVERLAP} seconds (7 days); got {seconds!r:.40}",
        )
    return seconds


async def regenerate_secret(
    stores: Stores,
    account: Account,
    client_id: int,
    actor: ev.Actor,
    now: float,
    previous_secret_expires_in: int = 0,
) -> tuple[Client, str]:
    """A new secret for a confidential client; the old one keeps working
    `previous_secret_expires_in` more seconds (0: it stops at once)."""
    overlap = _overlap(previous_secret_expires_in)
    client = await get(stores, account, client_id)
    return await _new_secret(stores, client, actor, now, overlap)


async def regenerate_global(
    stores: Stores, client: Client, now: float, previous_secret_expires_in: int = 0
) -> tuple[Client, str]:
    """regenerate_secret for a global client, found by the caller (clients.get_global)."""
    return await _new_secret(stores, client, ev.SYSTEM_ACTOR, now, _overlap(previous_secret_expires_in))


async def regenerate_any(stores: Stores, client: Client, now: float) -> tuple[Client, str]:
    """A new secret for any client, global ones included, the old one ending at once (the
    demo's seed shows a fresh secret on every start)."""
    return await _new_secret(stores, client, ev.SYSTEM_ACTOR, now, 0)


async def _new_secret(stores: Stores, client: Client, actor: ev.Actor, now: float, overlap: int) -> tuple[Client, str]:
    if client.is_public:
        raise Invalid.one("kind", f"client {client.identifier!r} is public and has no secret")
    if client.jwks:
        raise Invalid.one(
            "jwks",
            f"client {client.identifier!r} authenticates with private_key_jwt (it has a registered key set); "
            "remove its key set before giving it a secret",
        )
    secret = secrets.new_secret(secrets.CLIENT_SECRET_PREFIX)
    keep_previous = overlap > 0 and client.secret_hash is not None

    def record(updated: Client | None) -> list[AuditEntry]:
        if updated is None or updated.account_id is None:
            return []
        change = "generated a new secret; " + (
            f"the previous one works {overlap} more seconds" if keep_previous else "the previous one stopped working"
        )
        return [client_entry(updated.account_id, actor, ev.REGENERATE_SECRET, updated, change, now)]

    updated = await stores.clients.set_secret(
        client.id,
        secrets.digest(secret),
        secrets.shown(secret, secrets.CLIENT_SECRET_SHOWN),
        now,
        previous_hash=client.secret_hash if keep_previous else None,
        previous_expires_at=now + overlap if keep_previous else None,
        record=record,
    )
    if updated is None:
        raise ManagementError(f"client {client.identifier!r} no longer exists")
    return updated, secret
