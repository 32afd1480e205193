"""Pushed authorization requests (RFC 9126, protocol/ports.PushedRequestStore): the
request_uri is stored as its SHA-256 digest only; claiming it, and completing the flow it
started, are each one conditional UPDATE, so of concurrent uses exactly one wins (as codes
are redeemed, storage/codes.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.protocol.ports import PushedRequest
from tessera.storage.database import Database
from tessera.storage.schema import pushed_requests as t

_FIND = sa.select(t).where(t.c.digest == sa.bindparam("b_digest"), t.c.account_id == sa.bindparam("b_account_id"))
_CLAIM = (
    t.update()
    .where(
        t.c.digest == sa.bindparam("b_digest"),
        t.c.account_id == sa.bindparam("b_account_id"),
        t.c.client_id == sa.bindparam("b_client_id"),
        t.c.used_at.is_(None),
        t.c.expires_at > sa.bindparam("b_now"),
    )
    .values(
        used_at=sa.bindparam("b_now"), flow_digest=sa.bindparam("b_flow_digest"), expires_at=sa.bindparam("b_until")
    )
    .returning(t.c.parameters)
)
_RESUME = sa.select(t.c.parameters).where(
    t.c.digest == sa.bindparam("b_digest"),
    t.c.account_id == sa.bindparam("b_account_id"),
    t.c.client_id == sa.bindparam("b_client_id"),
    t.c.flow_digest == sa.bindparam("b_flow_digest"),
    t.c.used_at.is_not(None),
    t.c.completed_at.is_(None),
    t.c.expires_at > sa.bindparam("b_now"),
)
_COMPLETE = (
    t.update()
    .where(
        t.c.digest == sa.bindparam("b_digest"),
        t.c.account_id == sa.bindparam("b_account_id"),
        t.c.flow_digest == sa.bindparam("b_flow_digest"),
        t.c.completed_at.is_(None),
    )
    .values(completed_at=sa.bindparam("b_now"))
    .returning(t.c.id)
)


def insert(
    conn: Connection, account_id: int, client_id: int, digest: bytes, parameters: str, now: float, expires_at: float
) -> None:
    conn.execute(
        t.insert().values(
            digest=digest,
            account_id=account_id,
            client_id=client_id,
            parameters=parameters,
            created_at=now,
            expires_at=expires_at,
        )
    )


def claim(
    conn: Connection, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float, until: float
) -> str | None:
    params = {
        "b_digest": digest,
        "b_account_id": account_id,
        "b_client_id": client_id,
        "b_flow_digest": flow_digest,
        "b_now": now,
        "b_until": until,
    }
    parameters: str | None = conn.execute(_CLAIM, params).scalar_one_or_none()
    return parameters


def resume(
    conn: Connection, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float
) -> str | None:
    params = {
        "b_digest": digest,
        "b_account_id": account_id,
        "b_client_id": client_id,
        "b_flow_digest": flow_digest,
        "b_now": now,
    }
    parameters: str | None = conn.execute(_RESUME, params).scalar_one_or_none()
    return parameters


def complete(conn: Connection, account_id: int, digest: bytes, flow_digest: bytes, now: float) -> bool:
    params = {"b_digest": digest, "b_account_id": account_id, "b_flow_digest": flow_digest, "b_now": now}
    return conn.execute(_COMPLETE, params).first() is not None


def find(conn: Connection, account_id: int, digest: bytes) -> PushedRequest | None:
    row = conn.execute(_FIND, {"b_digest": digest, "b_account_id": account_id}).first()
    if row is None:
        return None
    return PushedRequest(
        account_id=row.account_id,
        client_id=row.client_id,
        parameters=row.parameters,
        expires_at=row.expires_at,
        used_at=row.used_at,
        completed_at=row.completed_at,
    )


class SqlPushedRequestStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def push(
        self, account_id: int, client_id: int, digest: bytes, parameters: str, now: float, expires_at: float
    ) -> None:
        await self.db.write(insert, account_id, client_id, digest, parameters, now, expires_at)

    async def claim(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float, flow_expires_at: float
    ) -> str | None:
        return await self.db.write(claim, account_id, client_id, digest, flow_digest, now, flow_expires_at)

    async def resume(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float
    ) -> str | None:
        return await self.db.read(resume, account_id, client_id, digest, flow_digest, now)

    async def complete(self, account_id: int, digest: bytes, flow_digest: bytes, now: float) -> bool:
        return await self.db.write(complete, account_id, digest, flow_digest, now)

    async def find(self, account_id: int, digest: bytes) -> PushedRequest | None:
        return await self.db.read(find, account_id, digest)
