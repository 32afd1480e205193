"""Password resets by e-mail (docs/password-reset.md): single-use, short-lived tokens.

The token in the e-mailed link is 256 random bits; only its SHA-256 digest is stored, so a
copy of the database opens no account. A token works once and until `expires_at`:

- `create` spends the user's earlier tokens, so that only the newest link works;
- `complete` spends the token in one conditional UPDATE (of concurrent uses exactly one
  gets the row back), and in the same transaction sets the password, spends every other
  token of the user, ends the user's sessions (storage/sessions.py: signed out everywhere)
  and records the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AuditEntry, User
from tessera.storage import audit
from tessera.storage import sessions as session_rows
from tessera.storage import users as user_rows
from tessera.storage.database import Database
from tessera.storage.schema import password_resets


@dataclass(frozen=True, slots=True)
class PasswordReset:
    id: int
    account_id: int
    user_id: int
    created_at: float
    expires_at: float
    used_at: float | None


def _reset(row: sa.Row) -> PasswordReset:  # type: ignore[type-arg]
    return PasswordReset(
        id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _spend_others(conn: Connection, account_id: int, user_id: int, now: float) -> int:
    r = password_resets.c
    return int(
        conn.execute(
            password_resets.update()
            .where(r.account_id == account_id, r.user_id == user_id, r.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
    )


def create(conn: Connection, account_id: int, user_id: int, digest: bytes, now: float, expires_at: float) -> int:
    """A new token for the user; their earlier ones stop working."""
    _spend_others(conn, account_id, user_id, now)
    row = conn.execute(
        password_resets.insert()
        .values(
            digest=digest, account_id=account_id, user_id=user_id, created_at=now, expires_at=expires_at, used_at=None
        )
        .returning(password_resets.c.id)
    ).one()
    return int(row.id)


def find_usable(conn: Connection, account_id: int, digest: bytes, now: float) -> PasswordReset | None:
    """The token with this digest on this account, if it is unspent and unexpired."""
    r = password_resets.c
    row = conn.execute(
        sa.select(password_resets).where(
            r.digest == digest, r.account_id == account_id, r.used_at.is_(None), r.expires_at > now
        )
    ).first()
    return None if row is None else _reset(row)


def complete(conn: Connection, account_id: int, digest: bytes, password_hash: str, now: float) -> User | None:
    """Spend the token and set the password; None if the token is spent, expired or unknown."""
    r = password_resets.c
    claimed = conn.execute(
        password_resets.update()
        .where(r.digest == digest, r.account_id == account_id, r.used_at.is_(None), r.expires_at > now)
        .values(used_at=now)
        .returning(r.user_id)
    ).first()
    if claimed is None:
        return None
    user = user_rows.set_password(conn, account_id, claimed.user_id, password_hash, now)
    if user is None:
        return None
    _spend_others(conn, account_id, user.id, now)
    session_rows.end_all_for_user(conn, account_id, user.id)
    return user


def purge_dead(conn: Connection, horizon: float, limit: int) -> int:
    """Delete up to `limit` tokens expired or spent before `horizon`."""
    r = password_resets.c
    dead = sa.or_(r.expires_at <= horizon, sa.and_(r.used_at.is_not(None), r.used_at <= horizon))
    doomed = sa.select(r.id).where(dead).limit(limit).scalar_subquery()
    return int(conn.execute(password_resets.delete().where(r.id.in_(doomed))).rowcount)


class SqlPasswordResetStore:
    """tessera/password_reset.py's ResetStore over the database."""

    def __init__(self, db: Database, users: user_rows.SqlUserStore) -> None:
        self.db = db
        self.users = users  # whose memo holds the old hash until a reset completes

    async def create(self, account_id: int, user_id: int, digest: bytes, now: float, expires_at: float) -> int:
        return await self.db.write(create, account_id, user_id, digest, now, expires_at)

    async def find_usable(self, account_id: int, digest: bytes, now: float) -> PasswordReset | None:
        return await self.db.read(find_usable, account_id, digest, now)

    async def complete(
        self,
        account_id: int,
        digest: bytes,
        password_hash: str,
        now: float,
        record: Callable[[User | None], Iterable[AuditEntry]],
    ) -> User | None:
        try:
            return await self.db.write(audit.audited(complete, record), account_id, digest, password_hash, now)
        finally:
            self.users.forget()
