"""One-time notices for the admin console: what the next page of a session must show once
(a flash message, or a client secret just generated), claimed by a DELETE ... RETURNING so
that a reload, or two tabs at once, never show it twice.

The store holds only sealed text (web/admin/notices.py seals it under a key derived from the
session's cookie, which the database never holds), so a secret is never stored in plaintext
(INTERFACE.md section 5).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage.database import Database
from tessera.storage.schema import console_notices

_PENDING = sa.select(console_notices.c.id).where(console_notices.c.session_id == sa.bindparam("session_id")).limit(1)


def put(conn: Connection, session_id: int, sealed: str, now: float, expires_at: float) -> None:
    """Replace the session's notice; drop everybody's expired ones on the way."""
    conn.execute(console_notices.delete().where(console_notices.c.expires_at <= now))
    conn.execute(console_notices.delete().where(console_notices.c.session_id == session_id))
    conn.execute(console_notices.insert().values(session_id=session_id, sealed=sealed, expires_at=expires_at))


def pending(conn: Connection, session_id: int) -> bool:
    return conn.execute(_PENDING, {"session_id": session_id}).first() is not None


def take(conn: Connection, session_id: int, now: float) -> str | None:
    rows = conn.execute(
        console_notices.delete()
        .where(console_notices.c.session_id == session_id)
        .returning(console_notices.c.sealed, console_notices.c.expires_at)
    ).all()
    live = [row.sealed for row in rows if row.expires_at > now]
    return live[-1] if live else None


class SqlConsoleNoticeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, session_id: int, sealed: str, now: float, expires_at: float) -> None:
        await self.db.write(put, session_id, sealed, now, expires_at)

    async def take(self, session_id: int, now: float) -> str | None:
        """The session's notice, removed; None when there is none. Most console pages have
        none, so a read asks first and only a pending notice costs a write."""
        if not await self.db.read(pending, session_id):
            return None
        return await self.db.write(take, session_id, now)
