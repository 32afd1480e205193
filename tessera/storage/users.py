"""Users of an account; emails are unique per account and compared without case."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tessera.model import User
from tessera.storage.cache import Memo
from tessera.storage.compiled import Compiled
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.schema import users

_COLUMNS = (
    users.c.id,
    users.c.account_id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.password_hash,
    users.c.created_at,
    users.c.updated_at,
    users.c.suspended_at,
)
# Every API call loads its caller: see compiled.py.
_GET = Compiled(
    sa.select(*_COLUMNS).where(users.c.account_id == sa.bindparam("account_id"), users.c.id == sa.bindparam("id"))
)
_BY_EMAIL = sa.select(*_COLUMNS).where(
    users.c.account_id == sa.bindparam("account_id"), users.c.email == sa.bindparam("email")
)
_FIRST_ADMIN = (
    sa.select(*_COLUMNS)
    .where(users.c.account_id == sa.bindparam("account_id"), users.c.role == "admin")
    .order_by(users.c.created_at, users.c.id)
    .limit(1)
)


def _user(row: Any) -> User:
    """From a row of _COLUMNS, by position (a Row or a driver tuple)."""
    return User(*row)


def get(conn: Connection, account_id: int, user_id: int) -> User | None:
    row = _GET.fetchone(conn, {"account_id": account_id, "id": user_id})
    return None if row is None else _user(row)


def by_email(conn: Connection, account_id: int, email: str) -> User | None:
    row = conn.execute(_BY_EMAIL, {"account_id": account_id, "email": email.strip().lower()}).first()
    return None if row is None else _user(row)


def first_admin(conn: Connection, account_id: int) -> User | None:
    row = conn.execute(_FIRST_ADMIN, {"account_id": account_id}).first()
    return None if row is None else _user(row)


def insert(conn: Connection, account_id: int, email: str, name: str, role: str, password_hash: str, now: float) -> User:
    email = email.strip().lower()
    if by_email(conn, account_id, email) is not None:
        raise Duplicate("email")
    try:
        row = conn.execute(
            users.insert()
            .values(
                account_id=account_id,
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                created_at=now,
                updated_at=now,
            )
            .returning(*_COLUMNS)
        ).one()
    except IntegrityError:  # a concurrent insert won (PostgreSQL, READ COMMITTED)
        raise Duplicate("email") from None
    return _user(row)


def replace_hash(conn: Connection, account_id: int, user_id: int, verified: str, new: str) -> bool:
    """Store `new` in place of the hash that was just verified, unless the password changed
    meanwhile (the hash is no longer `verified`): a rehash must never undo a new password.
    updated_at stays: the user's password did not change, only how it is stored."""
    where = (users.c.account_id == account_id) & (users.c.id == user_id) & (users.c.password_hash == verified)
    return bool(conn.execute(users.update().where(where).values(password_hash=new)).rowcount)


class SqlUserStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every API call and introspection loads the token's user: see cache.py for the
        # staleness bound. Sign-in reads by email, never from here.
        self._memo: Memo[tuple[int, int], User] = Memo()

    async def get(self, account_id: int, user_id: int) -> User | None:
        return await self._memo.read_through((account_id, user_id), self.db, get, account_id, user_id)

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        return await self.db.read(by_email, account_id, email)

    async def first_admin(self, account_id: int) -> User | None:
        return await self.db.read(first_admin, account_id)

    async def create(self, account_id: int, email: str, name: str, role: str, password_hash: str, now: float) -> User:
        return await self.db.write(insert, account_id, email, name, role, password_hash, now)

    async def replace_hash(self, account_id: int, user_id: int, verified: str, new: str) -> bool:
        """See replace_hash; True if it was stored."""
        replaced = await self.db.write(replace_hash, account_id, user_id, verified, new)
        self._memo.clear()  # the remembered User carries the old hash
        return replaced
