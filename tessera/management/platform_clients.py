"""The platform's global clients, administered by its operators (`tessera clients ...
--global`, INTERFACE.md section 1): listed, found, changed under the rules they were
created by, and deleted with every token, code and consent they hold in every account. No
account made them, so no account's audit log records these changes; what an account sees
of them, and how it revokes one for itself, is global_clients.py's.
"""

from __future__ import annotations

from tessera.management.clients import ClientChanges, save_changes
from tessera.management.errors import NotFound
from tessera.model import Client
from tessera.storage.stores import Stores


async def list_global(stores: Stores, *, after_id: int = 0, limit: int = 100) -> list[Client]:
    """The platform's global clients (`clients create --global`), in id order."""
    return await stores.clients.list_for_account(None, after_id=after_id, limit=limit)


async def get_global(stores: Stores, identifier: str) -> Client:
    client = await stores.clients.find_global(identifier)
    if client is None:
        raise NotFound(f"no global client with identifier {identifier!r}")
    return client


async def delete_global(stores: Stores, client_id: int) -> None:
    """Delete a global client; every token, code and consent it holds, in every account,
    goes with it at once. No account made it, so no account's audit log records it."""
    if await stores.clients.delete_with_everything(None, client_id, lambda _deleted: []) is None:
        raise NotFound(f"no global client with id {client_id}")


async def update_global(stores: Stores, client: Client, changes: ClientChanges, now: float) -> Client:
    """`update` for a global client, found by the caller (get_global); its rules are those of
    `clients create --global` (client_rules.py). No account's audit log records it."""
    return await save_changes(stores, None, client, changes, now, lambda _: [])
