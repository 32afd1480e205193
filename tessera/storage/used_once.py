"""Values that may be presented once, across nodes (protocol/ports.UsedOnceStore): DPoP
proof `jti`s (RFC 9449 section 11.1) and client assertion `jti`s (RFC 7523 section 3).

Claiming is one statement: INSERT ... ON CONFLICT DO UPDATE ... WHERE the recorded value
has expired ... RETURNING. A row comes back only when this statement inserted the value or
renewed an expired one, so of concurrent presentations exactly one sees it. Only digests
are kept.

On SQLite a short-lived claim (at most EARLY_HORIZON: a DPoP proof's `jti`, not a client
assertion's) is answered as soon as its statement has run in its write batch, before the
batch's COMMIT and fsync (SQLiteDatabase.write_before_commit). The statement runs under
the database's write lock, so the answer is decided against every process using the file;
what is skipped is only the wait for the disk, which a DPoP call needs for nothing else
(docs/benchmarks.md: the wait kept the server idle between batches and cost more CPU per
call than the claim itself). The price, stated in docs/dpop.md: a claim answered but lost
before it reached the disk (the machine stops, or that COMMIT fails) is forgotten, so the
same proof could be accepted once more until it expires (about a minute), and only by
someone who already holds the proof and the token. On PostgreSQL, where several nodes
share the store, every claim is committed before it is answered.
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
from tessera.storage.sqlite_writer import SQLiteDatabase


def _claim(insert: Any) -> Compiled:
    statement = insert.values(
        kind=sa.bindparam("kind"), digest=sa.bindparam("digest"), expires_at=sa.bindparam("expires_at")
    )
    return Compiled(
        statement.on_conflict_do_update(
            index_elements=[used_once.c.kind, used_once.c.digest],
            set_={"expires_at": statement.excluded.expires_at},
            where=used_once.c.expires_at <= sa.bindparam("now"),
        ).returning(used_once.c.kind)
    )


# Every DPoP-bound API call claims its proof's jti: compiled once (see compiled.py), as
# building and compiling the statement per call cost more than the rest of the request.
_CLAIM = {"sqlite": _claim(sqlite_insert(used_once)), "postgresql": _claim(postgresql_insert(used_once))}


def first_use(conn: Connection, kind: str, digest: bytes, expires_at: float, now: float) -> bool:
    params = {"kind": kind, "digest": digest, "expires_at": expires_at, "now": now}
    return _CLAIM[conn.dialect.name].fetchone(conn, params) is not None


def purge_expired(conn: Connection, now: float) -> int:
    return conn.execute(sa.delete(used_once).where(used_once.c.expires_at <= now)).rowcount


# A claim that lasts at most this long may be answered before its COMMIT on SQLite (see
# the module's docstring): a DPoP proof's lasts at most 121 s (iat up to 60 s ahead, and
# 61 s after it); a client assertion's, up to an hour, waits for its COMMIT.
EARLY_HORIZON = 150.0


class SqlUsedOnceStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._early = db.write_before_commit if isinstance(db, SQLiteDatabase) else db.write

    async def first_use(self, kind: str, value: str, expires_at: float, now: float) -> bool:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        write = self._early if expires_at - now <= EARLY_HORIZON else self.db.write
        return await write(first_use, kind, digest, expires_at, now)
