"""Grants: a user's remembered consent to a client (lets a repeat authorization skip consent)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.model import Grant
from tessera.storage.database import Database
from tessera.storage.schema import grants

_FIND = sa.select(grants).where(
    grants.c.user_id == sa.bindparam("user_id"), grants.c.client_id == sa.bindparam("client_id")
)


def _grant(row: Row) -> Grant:  # type: ignore[type-arg]
    return Grant(
        id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def find(conn: Connection, user_id: int, client_id: int) -> Grant | None:
    row = conn.execute(_FIND, {"user_id": user_id, "client_id": client_id}).first()
    return None if row is None else _grant(row)


def remember(
    conn: Connection, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
) -> Grant:
    existing = find(conn, user_id, client_id)
    if existing is None:
        conn.execute(
            grants.insert().values(
                account_id=account_id,
                user_id=user_id,
                client_id=client_id,
                scopes=" ".join(scopes),
                created_at=now,
                updated_at=now,
            )
        )
    else:
        union = existing.scopes + tuple(s for s in scopes if s not in existing.scopes)
        conn.execute(grants.update().where(grants.c.id == existing.id).values(scopes=" ".join(union), updated_at=now))
    found = find(conn, user_id, client_id)
    assert found is not None
    return found


class GrantStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, user_id: int, client_id: int) -> Grant | None:
        return await self.db.read(find, user_id, client_id)

    async def remember(
        self, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
    ) -> Grant:
        return await self.db.write(remember, account_id, user_id, client_id, scopes, now)
