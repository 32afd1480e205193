"""Protected resources registered per account (RFC 8707): what a `resource` parameter may
name besides the account's own API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tessera.model import AuditEntry, Resource
from tessera.storage.audit import audited
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.ids import storable
from tessera.storage.schema import resources

Record = Callable[[Any], Iterable[AuditEntry]]


@dataclass(frozen=True, slots=True)
class NewResource:
    account_id: int
    uri: str
    name: str
    scopes: tuple[str, ...]


def _resource(row: Any) -> Resource:
    return Resource(
        id=row.id,
        account_id=row.account_id,
        uri=row.uri,
        name=row.name,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
    )


def find(conn: Connection, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
    rows = conn.execute(sa.select(resources).where(resources.c.account_id == account_id, resources.c.uri.in_(uris)))
    return {row.uri: _resource(row) for row in rows}


def insert(conn: Connection, new: NewResource, now: float) -> Resource:
    taken = conn.execute(
        sa.select(resources.c.id).where(resources.c.account_id == new.account_id, resources.c.uri == new.uri)
    ).first()
    if taken is not None:
        raise Duplicate("uri")
    values = {
        "account_id": new.account_id,
        "uri": new.uri,
        "name": new.name,
        "scopes": " ".join(new.scopes),
        "created_at": now,
    }
    try:
        row = conn.execute(resources.insert().values(**values).returning(*resources.c)).one()
    except IntegrityError:  # a concurrent insert won (PostgreSQL, READ COMMITTED)
        raise Duplicate("uri") from None
    return _resource(row)


def list_for_account(conn: Connection, account_id: int, after_id: int, limit: int) -> list[Resource]:
    rows = conn.execute(
        sa.select(resources)
        .where(resources.c.account_id == account_id, resources.c.id > after_id)
        .order_by(resources.c.id)
        .limit(limit)
    )
    return [_resource(row) for row in rows]


def get(conn: Connection, account_id: int, resource_id: int) -> Resource | None:
    row = conn.execute(
        sa.select(resources).where(resources.c.account_id == account_id, resources.c.id == resource_id)
    ).first()
    return None if row is None else _resource(row)


def delete(conn: Connection, account_id: int, resource_id: int) -> Resource | None:
    row = conn.execute(
        resources.delete()
        .where(resources.c.account_id == account_id, resources.c.id == resource_id)
        .returning(*resources.c)
    ).first()
    return None if row is None else _resource(row)


class SqlResourceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
        if not uris:
            return {}
        return await self.db.read(find, account_id, uris)

    async def create(self, new: NewResource, now: float, record: Record) -> Resource:
        return await self.db.write(audited(insert, record), new, now)

    async def list_for_account(self, account_id: int, *, after_id: int = 0, limit: int = 100) -> list[Resource]:
        return await self.db.read(list_for_account, account_id, after_id, limit)

    async def get(self, account_id: int, resource_id: int) -> Resource | None:
        if not storable(resource_id):
            return None
        return await self.db.read(get, account_id, resource_id)

    async def delete(self, account_id: int, resource_id: int, record: Record) -> Resource | None:
        if not storable(resource_id):
            return None
        return await self.db.write(audited(delete, record), account_id, resource_id)
