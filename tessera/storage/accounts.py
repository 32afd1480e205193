"""Accounts: one per customer subdomain."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from tessera.model import Account, AuditEntry
from tessera.storage.audit import audited
from tessera.storage.cache import Memo
from tessera.storage.changes import watch_of
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.schema import accounts

_BY_SUBDOMAIN = sa.select(accounts).where(accounts.c.subdomain == sa.bindparam("subdomain"))
_BY_ID = sa.select(accounts).where(accounts.c.id == sa.bindparam("id"))


def _account(row: Row) -> Account:  # type: ignore[type-arg]
    return Account(
        id=row.id,
        subdomain=row.subdomain,
        name=row.name,
        created_at=row.created_at,
        registration_policy=row.registration_policy,
    )


def by_subdomain(conn: Connection, subdomain: str) -> Account | None:
    row = conn.execute(_BY_SUBDOMAIN, {"subdomain": subdomain}).first()
    return None if row is None else _account(row)


def by_id(conn: Connection, account_id: int) -> Account | None:
    row = conn.execute(_BY_ID, {"id": account_id}).first()
    return None if row is None else _account(row)


def insert(conn: Connection, subdomain: str, name: str, now: float) -> Account:
    if by_subdomain(conn, subdomain) is not None:
        raise Duplicate("subdomain")
    try:
        row = conn.execute(
            accounts.insert().values(subdomain=subdomain, name=name, created_at=now).returning(*accounts.c)
        ).one()
    except IntegrityError:  # a concurrent insert won (PostgreSQL, READ COMMITTED)
        raise Duplicate("subdomain") from None
    return _account(row)


def set_registration_policy(conn: Connection, account_id: int, policy: str) -> Account | None:
    row = conn.execute(
        accounts.update().where(accounts.c.id == account_id).values(registration_policy=policy).returning(*accounts.c)
    ).first()
    return None if row is None else _account(row)


class SqlAccountStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._memo: Memo[str, Account] = Memo(watch=watch_of(db))  # every request resolves its host: see cache.py

    async def by_subdomain(self, subdomain: str) -> Account | None:
        return await self._memo.read_through(subdomain, self.db, by_subdomain, subdomain)

    async def by_id(self, account_id: int) -> Account | None:
        return await self.db.read(by_id, account_id)

    async def create(self, subdomain: str, name: str, now: float) -> Account:
        return await self.db.write(insert, subdomain, name, now)

    async def set_registration_policy(
        self, account_id: int, policy: str, record: Callable[[Account | None], Iterable[AuditEntry]] | None = None
    ) -> Account | None:
        fn = set_registration_policy if record is None else audited(set_registration_policy, record)
        account = await self.db.write(fn, account_id, policy)
        self._memo.clear()
        return account
