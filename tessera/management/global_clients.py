"""Third-party (global) apps an account's users have authorized (INTERFACE.md section 6):
listed when a user of the account holds a consent or a live token for them; revoking one
withdraws every consent and token of that app in this account, so that it must be
authorized again. The app itself, which belongs to the platform, is untouched.
"""

from __future__ import annotations

import time

from tessera.management import audit_events as ev
from tessera.management.errors import NotFound
from tessera.model import Account, AuditEntry, Client
from tessera.storage.stores import Stores


def _not_found(account: Account, client_id: int) -> NotFound:
    return NotFound(f"no global client with id {client_id} is authorized on account {account.subdomain!r}")


async def authorized(
    stores: Stores, account: Account, *, after_id: int = 0, limit: int = 100, now: float | None = None
) -> list[Client]:
    """`now` decides which tokens are live (default: the system clock)."""
    when = time.time() if now is None else now
    return await stores.clients.authorized_global(account.id, when, after_id=after_id, limit=limit)


async def get(stores: Stores, account: Account, client_id: int, now: float | None = None) -> Client:
    when = time.time() if now is None else now
    client = await stores.clients.get_authorized_global(account.id, client_id, when)
    if client is None:
        raise _not_found(account, client_id)
    return client


async def revoke(stores: Stores, account: Account, client_id: int, actor: ev.Actor, now: float) -> None:
    def record(client: Client | None) -> list[AuditEntry]:
        if client is None:
            return []
        change = "revoked the app for the account: every consent and token of its users"
        label = f"{client.name} ({client.identifier})"
        return [ev.entry(account.id, actor, ev.REVOKE, ev.GLOBAL_CLIENT, client.id, label, change, now)]

    if await stores.clients.revoke_global(account.id, client_id, now, record) is None:
        raise _not_found(account, client_id)
