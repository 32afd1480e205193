"""The audit log (INTERFACE.md section 6): entries are written in the same transaction as the
change they record, by wrapping the change's storage function with `audited`.

A storage function is `fn(conn, *args)`; `audited(fn, entries)` is one too: it runs `fn`,
then inserts the entries that `entries(result)` gives, on the same connection, so the
change and its record are committed or undone together on both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AuditEntry, AuditLog
from tessera.storage.database import Database
from tessera.storage.ids import storable
from tessera.storage.schema import audit_logs

T = TypeVar("T")

_FIELDS = (
    "account_id",
    "actor_id",
    "actor_name",
    "source_id",
    "source_type",
    "source_label",
    "action",
    "change_description",
    "ip_address",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What GET /api/v2/audit_logs and the console may ask for; None means any."""

    action: str | None = None
    actor_id: int | None = None
    source_type: str | None = None
    source_id: int | None = None
    created_from: float | None = None
    created_to: float | None = None


def _values(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in _FIELDS}
    # Labels are names a user typed; the column is bounded.
    values["actor_name"] = entry.actor_name[:255]
    values["source_label"] = entry.source_label[:255]
    return values


def insert(conn: Connection, entries: Iterable[AuditEntry]) -> None:
    rows = [_values(entry) for entry in entries]
    if rows:
        conn.execute(audit_logs.insert(), rows)


def audited(fn: Callable[..., T], entries: Callable[[T], Iterable[AuditEntry]]) -> Callable[..., T]:
    """`fn`, recording `entries(result)` in the same transaction."""

    def run(conn: Connection, *args: Any) -> T:
        result = fn(conn, *args)
        insert(conn, entries(result))
        return result

    return run


def _log(row: Any) -> AuditLog:
    return AuditLog(id=row.id, entry=AuditEntry(**{name: getattr(row, name) for name in _FIELDS}))


def newest_first(conn: Connection, account_id: int, where: AuditFilter, before_id: int, limit: int) -> list[AuditLog]:
    """Entries of the account, newest first, older than the cursor `before_id` (0: from the newest)."""
    c = audit_logs.c
    query = sa.select(audit_logs).where(c.account_id == account_id)
    if before_id:
        query = query.where(c.id < before_id)
    for column, value in (
        (c.action, where.action),
        (c.actor_id, where.actor_id),
        (c.source_type, where.source_type),
        (c.source_id, where.source_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.created_from is not None:
        query = query.where(c.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(c.created_at <= where.created_to)
    return [_log(row) for row in conn.execute(query.order_by(c.id.desc()).limit(limit))]


def get(conn: Connection, account_id: int, entry_id: int) -> AuditLog | None:
    row = conn.execute(
        sa.select(audit_logs).where(audit_logs.c.account_id == account_id, audit_logs.c.id == entry_id)
    ).first()
    return None if row is None else _log(row)


def purge_older_than(conn: Connection, horizon: float, limit: int) -> int:
    """One batch of the housekeeping purge: entries created before `horizon`."""
    doomed = sa.select(audit_logs.c.id).where(audit_logs.c.created_at < horizon).limit(limit).scalar_subquery()
    return int(conn.execute(audit_logs.delete().where(audit_logs.c.id.in_(doomed))).rowcount)


class SqlAuditStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, *entries: AuditEntry) -> None:
        """Entries that record no stored change of their own (a failed sign-in, say)."""
        await self.db.write(insert, entries)

    async def newest_first(
        self, account_id: int, where: AuditFilter, *, before_id: int = 0, limit: int = 100
    ) -> list[AuditLog]:
        return await self.db.read(newest_first, account_id, where, before_id, limit)

    async def get(self, account_id: int, entry_id: int) -> AuditLog | None:
        if not storable(entry_id):
            return None
        return await self.db.read(get, account_id, entry_id)
