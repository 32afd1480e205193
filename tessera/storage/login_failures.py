"""Failed sign-ins per account and email, kept in the store so the limit holds across nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from tessera.model import AuditEntry
from tessera.storage.audit import audited
from tessera.storage.database import Database
from tessera.storage.schema import login_failures as failures

# A typed email longer than the column is no user's (users.email has the same bound), so
# counting it under its first 254 characters loses nothing, and PostgreSQL would refuse it.
_KEY_LENGTH = 254


def _key(email: str) -> str:
    return email[:_KEY_LENGTH]


_GET = sa.select(failures.c.failures, failures.c.window_started_at).where(
    failures.c.account_id == sa.bindparam("account_id"), failures.c.email == sa.bindparam("email")
)


def blocked_for(conn: Connection, account_id: int, email: str, now: float, limit: int, window: int) -> int | None:
    """Seconds until sign-in may be tried again, or None when it may be tried now."""
    row = conn.execute(_GET, {"account_id": account_id, "email": _key(email)}).first()
    if row is None or row.failures < limit:
        return None
    remaining = row.window_started_at + window - now
    return int(remaining) + 1 if remaining > 0 else None


def _upsert(conn: Connection):  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":
        return sqlite_insert(failures)
    return postgresql_insert(failures)


def record(conn: Connection, account_id: int, email: str, now: float, window: int) -> int:
    """Count one failure, atomically; a window that has passed starts again. Returns the count."""
    expired = failures.c.window_started_at + window <= now
    statement = _upsert(conn).values(account_id=account_id, email=_key(email), failures=1, window_started_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[failures.c.account_id, failures.c.email],
        set_={
            "failures": sa.case((expired, 1), else_=failures.c.failures + 1),
            "window_started_at": sa.case((expired, now), else_=failures.c.window_started_at),
        },
    ).returning(failures.c.failures)
    return int(conn.execute(statement).scalar_one())


def clear(conn: Connection, account_id: int, email: str) -> None:
    conn.execute(failures.delete().where((failures.c.account_id == account_id) & (failures.c.email == _key(email))))


class SqlLoginFailureStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def blocked_for(self, account_id: int, email: str, now: float, limit: int, window: int) -> int | None:
        return await self.db.read(blocked_for, account_id, email, now, limit, window)

    async def record(
        self,
        account_id: int,
        email: str,
        now: float,
        window: int,
        audit: Callable[[int], Iterable[AuditEntry]] | None = None,
    ) -> int:
        """Count a failure; `audit(failures)` gives the entries written with the count."""
        fn = record if audit is None else audited(record, audit)
        return await self.db.write(fn, account_id, email, now, window)

    async def clear(self, account_id: int, email: str, audit: AuditEntry | None = None) -> None:
        """Forget the failures (a right password); `audit` is written with it."""
        if audit is None:
            await self.db.write(clear, account_id, email)
        else:
            await self.db.write(audited(clear, lambda _: (audit,)), account_id, email)
