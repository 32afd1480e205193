"""Reading an account's audit log (INTERFACE.md section 6): newest first, filtered."""

from __future__ import annotations

from tessera.management.errors import NotFound
from tessera.model import Account, AuditLog
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores


async def query(
    stores: Stores, account: Account, where: AuditFilter, *, before_id: int = 0, limit: int = 100
) -> list[AuditLog]:
    """Entries older than the cursor `before_id` (0: from the newest), newest first."""
    return await stores.audit.newest_first(account.id, where, before_id=before_id, limit=limit)


async def get(stores: Stores, account: Account, entry_id: int) -> AuditLog:
    log = await stores.audit.get(account.id, entry_id)
    if log is None:
        raise NotFound(f"no audit log entry with id {entry_id} on account {account.subdomain!r}")
    return log
