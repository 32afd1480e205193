"""Device authorizations (RFC 8628): every step that must happen once is one conditional
UPDATE, as for authorization codes (storage/codes.py).

- decide: pending and unexpired -> allowed or denied; of concurrent decisions one counts.
- poll: the polling rate (RFC 8628 section 3.5) decided by the UPDATE itself, reading the
  row as it was, so two polls at the same moment cannot both pass as on time.
- redeem: allowed and unused -> used, with the tokens written in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Row

from tessera.model import DEVICE_ALLOWED, DEVICE_DENIED, DEVICE_PENDING, AuditEntry, DeviceCode
from tessera.protocol.ports import NewDeviceCode, Polled, Redeemed, TokenRows
from tessera.storage import audit, token_columns
from tessera.storage.database import Database
from tessera.storage.schema import device_codes as t

# RFC 8628 section 3.5: "the interval MUST be increased by 5 seconds for this and all
# subsequent requests".
SLOW_DOWN_STEP = 5

_FIND = sa.select(t).where(t.c.digest == sa.bindparam("digest"))
_FIND_PENDING = sa.select(t).where(
    t.c.account_id == sa.bindparam("account_id"),
    t.c.user_code == sa.bindparam("user_code"),
    t.c.status == DEVICE_PENDING,
    t.c.expires_at > sa.bindparam("now"),
)
_FIND_DECIDED = (
    sa.select(t)
    .where(
        t.c.account_id == sa.bindparam("account_id"),
        t.c.user_code == sa.bindparam("user_code"),
        t.c.user_id == sa.bindparam("user_id"),
        t.c.status != DEVICE_PENDING,
    )
    .order_by(t.c.id.desc())
    .limit(1)
)
_TOO_SOON = sa.and_(
    t.c.status == DEVICE_PENDING,
    t.c.last_polled_at.is_not(None),
    t.c.last_polled_at + t.c.interval > sa.bindparam("now"),
)
_POLL = (
    t.update()
    .where(t.c.id == sa.bindparam("code_id"))
    .values(
        # Every expression reads the row as it was before this statement.
        slow_down=sa.case((_TOO_SOON, 1), else_=0),
        interval=sa.case((_TOO_SOON, t.c.interval + SLOW_DOWN_STEP), else_=t.c.interval),
        last_polled_at=sa.bindparam("now"),
    )
    .returning(t.c.status, t.c.slow_down, t.c.interval, t.c.user_id, t.c.auth_time)
)
_DECIDE = (
    t.update()
    .where(
        t.c.id == sa.bindparam("code_id"),
        t.c.status == DEVICE_PENDING,
        t.c.expires_at > sa.bindparam("now"),
    )
    .values(status=sa.bindparam("status"), user_id=sa.bindparam("user_id"), auth_time=sa.bindparam("auth_time"))
    .returning(t.c.id)
)
_CLAIM = (
    t.update()
    .where(t.c.id == sa.bindparam("code_id"), t.c.status == DEVICE_ALLOWED, t.c.used_at.is_(None))
    .values(used_at=sa.bindparam("now"))
    .returning(t.c.id)
)


def _device_code(row: Row) -> DeviceCode:  # type: ignore[type-arg]
    return DeviceCode(
        id=row.id,
        account_id=row.account_id,
        client_id=row.client_id,
        user_code=row.user_code,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        interval=row.interval,
        last_polled_at=row.last_polled_at,
        status=row.status,
        user_id=row.user_id,
        auth_time=row.auth_time,
        used_at=row.used_at,
    )


def insert(conn: Connection, new: NewDeviceCode) -> int | None:
    upsert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    statement = (
        upsert(t)
        .values(
            digest=new.digest,
            user_code=new.user_code,
            account_id=new.account_id,
            client_id=new.client_id,
            scopes=" ".join(new.scopes),
            created_at=new.created_at,
            expires_at=new.expires_at,
            interval=new.interval,
            slow_down=0,
            status=DEVICE_PENDING,
        )
        .on_conflict_do_nothing()
        .returning(t.c.id)
    )
    code_id: int | None = conn.execute(statement).scalar_one_or_none()
    return code_id


def find(conn: Connection, digest: bytes) -> DeviceCode | None:
    row = conn.execute(_FIND, {"digest": digest}).first()
    return None if row is None else _device_code(row)


def find_pending(conn: Connection, account_id: int, user_code: str, now: float) -> DeviceCode | None:
    row = conn.execute(_FIND_PENDING, {"account_id": account_id, "user_code": user_code, "now": now}).first()
    return None if row is None else _device_code(row)


def find_decided(conn: Connection, account_id: int, user_code: str, user_id: int) -> DeviceCode | None:
    params = {"account_id": account_id, "user_code": user_code, "user_id": user_id}
    row = conn.execute(_FIND_DECIDED, params).first()
    return None if row is None else _device_code(row)


def decide(
    conn: Connection, code_id: int, user_id: int, auth_time: float, allow: bool, now: float, entry: AuditEntry | None
) -> bool:
    status = DEVICE_ALLOWED if allow else DEVICE_DENIED
    params = {"code_id": code_id, "now": now, "status": status, "user_id": user_id, "auth_time": auth_time}
    if conn.execute(_DECIDE, params).first() is None:
        return False
    if entry is not None:
        audit.insert(conn, [entry])
    return True


def poll(conn: Connection, code_id: int, now: float) -> Polled:
    row = conn.execute(_POLL, {"code_id": code_id, "now": now}).one()
    return Polled(
        status=row.status,
        slow_down=bool(row.slow_down),
        interval=int(row.interval),
        user_id=row.user_id,
        auth_time=row.auth_time,
    )


def redeem(conn: Connection, code_id: int, now: float, issued: TokenRows) -> Redeemed:
    if conn.execute(_CLAIM, {"code_id": code_id, "now": now}).first() is None:
        return Redeemed(access_token_id=None)  # used already, or not allowed
    return Redeemed(access_token_id=token_columns.insert(conn, issued))


class SqlDeviceCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, code: NewDeviceCode) -> int | None:
        return await self.db.write(insert, code)

    async def find(self, digest: bytes) -> DeviceCode | None:
        return await self.db.read(find, digest)

    async def find_pending(self, account_id: int, user_code: str, now: float) -> DeviceCode | None:
        return await self.db.read(find_pending, account_id, user_code, now)

    async def find_decided(self, account_id: int, user_code: str, user_id: int) -> DeviceCode | None:
        return await self.db.read(find_decided, account_id, user_code, user_id)

    async def decide(
        self, code_id: int, user_id: int, auth_time: float, allow: bool, now: float, audit: AuditEntry | None = None
    ) -> bool:
        return await self.db.write(decide, code_id, user_id, auth_time, allow, now, audit)

    async def poll(self, code_id: int, now: float) -> Polled:
        return await self.db.write(poll, code_id, now)

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        return await self.db.write(redeem, code_id, now, tokens)
