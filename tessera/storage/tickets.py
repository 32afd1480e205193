"""Tickets: the small protected resource behind /api/v2/tickets, stored per account."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.storage.database import Database
from tessera.storage.ids import storable
from tessera.storage.schema import tickets
from tessera.tickets import Ticket

# The fields a caller may change; everything else is set by the server.
CHANGEABLE = ("subject", "status", "priority")


def _ticket(row: Row) -> Ticket:  # type: ignore[type-arg]
    return Ticket(
        id=row.id,
        account_id=row.account_id,
        requester_id=row.requester_id,
        subject=row.subject,
        description=row.description,
        status=row.status,
        priority=row.priority,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def insert(
    conn: Connection,
    account_id: int,
    requester_id: int,
    subject: str,
    description: str,
    priority: str | None,
    now: float,
) -> Ticket:
    row = conn.execute(
        tickets.insert()
        .values(
            account_id=account_id,
            requester_id=requester_id,
            subject=subject,
            description=description,
            status="new",
            priority=priority,
            created_at=now,
            updated_at=now,
        )
        .returning(*tickets.c)
    ).one()
    return _ticket(row)


def get(conn: Connection, account_id: int, ticket_id: int) -> Ticket | None:
    row = conn.execute(sa.select(tickets).where(tickets.c.account_id == account_id, tickets.c.id == ticket_id)).first()
    return None if row is None else _ticket(row)


def page(conn: Connection, account_id: int, requester_id: int | None, after_id: int, limit: int) -> list[Ticket]:
    """Oldest first, after a cursor (the last id seen); only `requester_id`'s when given."""
    query = sa.select(tickets).where(tickets.c.account_id == account_id, tickets.c.id > after_id)
    if requester_id is not None:
        query = query.where(tickets.c.requester_id == requester_id)
    return [_ticket(row) for row in conn.execute(query.order_by(tickets.c.id).limit(limit))]


def update(
    conn: Connection, account_id: int, ticket_id: int, changes: Mapping[str, str | None], now: float
) -> Ticket | None:
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    row = conn.execute(
        tickets.update()
        .where(tickets.c.account_id == account_id, tickets.c.id == ticket_id)
        .values(**changes, updated_at=now)
        .returning(*tickets.c)
    ).first()
    return None if row is None else _ticket(row)


def delete(conn: Connection, account_id: int, ticket_id: int) -> bool:
    result = conn.execute(tickets.delete().where(tickets.c.account_id == account_id, tickets.c.id == ticket_id))
    return bool(result.rowcount)


class SqlTicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, account_id: int, requester_id: int, subject: str, description: str, priority: str | None, now: float
    ) -> Ticket:
        return await self.db.write(insert, account_id, requester_id, subject, description, priority, now)

    async def get(self, account_id: int, ticket_id: int) -> Ticket | None:
        if not storable(ticket_id):
            return None
        return await self.db.read(get, account_id, ticket_id)

    async def page(self, account_id: int, requester_id: int | None, after_id: int, limit: int) -> list[Ticket]:
        return await self.db.read(page, account_id, requester_id, after_id, limit)

    async def update(
        self, account_id: int, ticket_id: int, changes: Mapping[str, str | None], now: float
    ) -> Ticket | None:
        return await self.db.write(update, account_id, ticket_id, changes, now)

    async def delete(self, account_id: int, ticket_id: int) -> bool:
        return await self.db.write(delete, account_id, ticket_id)
