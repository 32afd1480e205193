"""Values that may be presented once, across nodes (protocol/ports.UsedOnceStore): DPoP
proof `jti`s (RFC 9449 section 11.1) and client assertion `jti`s (RFC 7523 section 3).

Claiming is one statement: INSERT ... ON CONFLICT DO UPDATE ... WHERE the recorded value
has expired. It changes a row only when it inserted the value or renewed an expired one,
so of concurrent presentations exactly one sees a row changed (its row count; RETURNING
the row measured ~13 us more per claim on SQLite). Only digests are kept.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from tessera.storage.compiled import Compiled
from tessera.storage.database import Database
from tessera.storage.schema import used_once


def _claim(insert: Any) -> Compiled:
    statement = insert.values(
        kind=sa.bindparam("kind"), digest=sa.bindparam("digest"), expires_at=sa.bindparam("expires_at")
    )
    return Compiled(
        statement.on_conflict_do_update(
            index_elements=[used_once.c.kind, used_once.c.digest],
            set_={"expires_at": statement.excluded.expires_at},
            where=used_once.c.expires_at <= sa.bindparam("now"),
        )
    )


# Every DPoP-bound API call claims its proof's jti: compiled once (see compiled.py), as
# building and compiling the statement per call cost more than the rest of the request.
_CLAIM = {"sqlite": _claim(sqlite_insert(used_once)), "postgresql": _claim(postgresql_insert(used_once))}


def purge_expired(conn: Connection, now: float) -> int:
    return conn.execute(sa.delete(used_once).where(used_once.c.expires_at <= now)).rowcount


class SqlUsedOnceStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._claim = _CLAIM[db.dialect]

    async def first_use(self, kind: str, value: str, expires_at: float, now: float) -> bool:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        # One statement, atomic by itself: on PostgreSQL no transaction around it, on SQLite
        # no savepoint inside the batch; durable once answered either way.
        params = {"kind": kind, "digest": digest, "expires_at": expires_at, "now": now}
        return await self.db.change_one(self._claim, params) == 1
