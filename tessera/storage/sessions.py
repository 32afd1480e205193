"""Browser sessions: server-side, looked up by the digest of the cookie's secret.

A session ends at `expires_at` (the absolute lifetime) or when unused for the idle timeout:
the lookup is given the oldest last use still alive, and `touch` moves `last_seen_at` on, at
most once a minute per session (web/sessions.py), so that reading does not mean writing.

A session of a suspended user is not found (INTERFACE.md section 6, "Users": their sessions
"stop working at once"): suspending ends the user's sessions, and the lookup also joins the
user, so that a session the suspension missed is refused on every node without a cache.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.model import AuditEntry, Session
from tessera.storage.audit import audited
from tessera.storage.database import Database
from tessera.storage.schema import sessions, users

_FIND = (
    sa.select(sessions)
    .join_from(sessions, users, users.c.id == sessions.c.user_id)
    .where(
        sessions.c.digest == sa.bindparam("digest"),
        sessions.c.expires_at > sa.bindparam("now"),
        sessions.c.last_seen_at > sa.bindparam("idle_since"),
        users.c.suspended_at.is_(None),
    )
)


def _session(row: Row) -> Session:  # type: ignore[type-arg]
    return Session(
        id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
    )


def find(conn: Connection, digest: bytes, now: float, idle_since: float) -> Session | None:
    """The live session with this digest: not expired, used after `idle_since`, its user not suspended."""
    row = conn.execute(_FIND, {"digest": digest, "now": now, "idle_since": idle_since}).first()
    return None if row is None else _session(row)


def touch(conn: Connection, session_id: int, now: float, seen_before: float) -> None:
    """Record a use, unless one after `seen_before` is already recorded (another request or
    node got there first: the condition makes concurrent touches one write that matters)."""
    conn.execute(
        sessions.update()
        .where(sessions.c.id == session_id, sessions.c.last_seen_at < seen_before)
        .values(last_seen_at=now)
    )


def replace(
    conn: Connection,
    old_digest: bytes | None,
    digest: bytes,
    account_id: int,
    user_id: int,
    now: float,
    expires_at: float,
) -> Session:
    """Start a session, ending the one it replaces (the identifier changes at sign-in)."""
    if old_digest is not None:
        conn.execute(sessions.delete().where(sessions.c.digest == old_digest))
    row = conn.execute(
        sessions.insert()
        .values(
            digest=digest,
            account_id=account_id,
            user_id=user_id,
            auth_time=now,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
        )
        .returning(*sessions.c)
    ).one()
    return _session(row)


def delete(conn: Connection, digest: bytes) -> int:
    """End a session; the number of sessions ended (0 or 1)."""
    return int(conn.execute(sessions.delete().where(sessions.c.digest == digest)).rowcount)


def end_all_for_user(conn: Connection, account_id: int, user_id: int) -> None:
    """Sign the user out everywhere (a suspension)."""
    conn.execute(sessions.delete().where(sessions.c.account_id == account_id, sessions.c.user_id == user_id))


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, digest: bytes, now: float, idle_since: float) -> Session | None:
        return await self.db.read(find, digest, now, idle_since)

    async def touch(self, session_id: int, now: float, seen_before: float) -> None:
        await self.db.write(touch, session_id, now, seen_before)

    async def start(
        self, old_digest: bytes | None, digest: bytes, account_id: int, user_id: int, now: float, expires_at: float
    ) -> Session:
        return await self.db.write(replace, old_digest, digest, account_id, user_id, now, expires_at)

    async def end(self, digest: bytes, audit: AuditEntry | None = None) -> None:
        """End the session; `audit` (the sign-out) is recorded with it if a session ended."""
        fn = delete if audit is None else audited(delete, lambda ended: (audit,) if ended else ())
        await self.db.write(fn, digest)

    async def end_all_for_user(self, account_id: int, user_id: int) -> None:
        await self.db.write(end_all_for_user, account_id, user_id)
