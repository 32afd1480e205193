"""Users of an account; emails are unique per account and compared without case."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tessera.model import AuditEntry, User
from tessera.storage import sessions as session_rows
from tessera.storage import tokens as token_rows
from tessera.storage.audit import audited
from tessera.storage.cache import Memo
from tessera.storage.changes import watch_of
from tessera.storage.compiled import Compiled
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate, LastAdmin
from tessera.storage.ids import storable
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


def list_page(conn: Connection, account_id: int, after_id: int, limit: int) -> list[User]:
    rows = conn.execute(
        sa.select(*_COLUMNS)
        .where(users.c.account_id == account_id, users.c.id > after_id)
        .order_by(users.c.id)
        .limit(limit)
    )
    return [_user(row) for row in rows]


@dataclass(frozen=True, slots=True)
class UserChange:
    """Column changes to a user; None means unchanged. `suspended`: True suspends (ending
    the user's sessions and tokens in the same transaction), False lifts a suspension."""

    name: str | None = None
    role: str | None = None
    suspended: bool | None = None


@dataclass(frozen=True, slots=True)
class Changed:
    before: User
    after: User


def other_active_admins(conn: Connection, account_id: int, user_id: int, *, lock: bool = False) -> int:
    """The account's active admins other than the user. `lock`, in a write: FOR UPDATE locks
    them (PostgreSQL), so that two admins demoting each other at once cannot both pass the
    check; SQLite serialises writers anyway and ignores it."""
    query = sa.select(users.c.id).where(
        users.c.account_id == account_id,
        users.c.role == "admin",
        users.c.suspended_at.is_(None),
        users.c.id != user_id,
    )
    return len(conn.execute(query.with_for_update() if lock else query).all())


def update(conn: Connection, account_id: int, user_id: int, change: UserChange, now: float) -> Changed | None:
    before = get(conn, account_id, user_id)
    if before is None:
        return None
    values: dict[str, Any] = {"updated_at": now}
    if change.name is not None:
        values["name"] = change.name
    if change.role is not None:
        values["role"] = change.role
    if change.suspended is not None and change.suspended != before.is_suspended:
        values["suspended_at"] = now if change.suspended else None
    suspended_after = before.is_suspended if change.suspended is None else change.suspended
    stays_active_admin = values.get("role", before.role) == "admin" and not suspended_after
    was_active_admin = before.is_admin and not before.is_suspended
    if was_active_admin and not stays_active_admin and other_active_admins(conn, account_id, user_id, lock=True) == 0:
        raise LastAdmin()
    row = conn.execute(
        users.update()
        .where(users.c.account_id == account_id, users.c.id == user_id)
        .values(**values)
        .returning(*_COLUMNS)
    ).one()
    after = _user(row)
    if after.is_suspended and not before.is_suspended:
        session_rows.end_all_for_user(conn, account_id, user_id)
        token_rows.revoke_where(conn, now, account_id=account_id, user_id=user_id)
    return Changed(before=before, after=after)


def set_password(conn: Connection, account_id: int, user_id: int, password_hash: str, now: float) -> User | None:
    row = conn.execute(
        users.update()
        .where(users.c.account_id == account_id, users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=now)
        .returning(*_COLUMNS)
    ).first()
    return None if row is None else _user(row)


class SqlUserStore:
    def __init__(self, db: Database, tokens: token_rows.SqlTokenStore | None = None) -> None:
        self.db = db
        self.tokens = tokens  # whose memo a suspension must empty: it revokes tokens
        # Every API call and introspection loads the token's user: see cache.py for the
        # staleness bound. Sign-in reads by email, never from here.
        self._memo: Memo[tuple[int, int], User] = Memo(watch=watch_of(db))

    async def get(self, account_id: int, user_id: int) -> User | None:
        if not storable(user_id):
            return None
        return await self._memo.read_through((account_id, user_id), self.db, get, account_id, user_id)

    def forget(self) -> None:
        """Empty the memo: a change written elsewhere (a password reset) made it stale."""
        self._memo.clear()

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        return await self.db.read(by_email, account_id, email)

    async def first_admin(self, account_id: int) -> User | None:
        return await self.db.read(first_admin, account_id)

    async def other_active_admins(self, account_id: int, user_id: int) -> int:
        return await self.db.read(other_active_admins, account_id, user_id)

    async def replace_hash(self, account_id: int, user_id: int, verified: str, new: str) -> bool:
        """See replace_hash; True if it was stored."""
        replaced = await self.db.write(replace_hash, account_id, user_id, verified, new)
        self._memo.clear()  # the remembered User carries the old hash
        return replaced

    async def create(
        self,
        account_id: int,
        email: str,
        name: str,
        role: str,
        password_hash: str,
        now: float,
        record: Callable[[User], Iterable[AuditEntry]] | None = None,
    ) -> User:
        fn = insert if record is None else audited(insert, record)
        return await self.db.write(fn, account_id, email, name, role, password_hash, now)

    async def list_page(self, account_id: int, *, after_id: int = 0, limit: int = 100) -> list[User]:
        return await self.db.read(list_page, account_id, after_id, limit)

    async def get_fresh(self, account_id: int, user_id: int) -> User | None:
        """From the database, never the memo: for changes that read before they write."""
        return await self.db.read(get, account_id, user_id)

    async def update(
        self,
        account_id: int,
        user_id: int,
        change: UserChange,
        now: float,
        record: Callable[[Changed | None], Iterable[AuditEntry]],
    ) -> Changed | None:
        """Raises LastAdmin when the account would be left without an active admin. A
        suspension is refused at once by this node: the user and token memos are emptied."""
        try:
            return await self.db.write(audited(update, record), account_id, user_id, change, now)
        finally:
            self._memo.clear()
            if self.tokens is not None:
                self.tokens.forget()

    async def set_password(
        self,
        account_id: int,
        user_id: int,
        password_hash: str,
        now: float,
        record: Callable[[User | None], Iterable[AuditEntry]],
    ) -> User | None:
        try:
            return await self.db.write(audited(set_password, record), account_id, user_id, password_hash, now)
        finally:
            self._memo.clear()
