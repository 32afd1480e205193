"""Authorization codes: single use, enforced by a conditional UPDATE (RFC 6749 section 4.1.2).
On PostgreSQL a redemption is one statement (postgres_writes.REDEEM), sent with those of
concurrent requests (GROUPED_REDEEM)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AuthorizationCode
from tessera.protocol.ports import NewCode, Redeemed, TokenRows
from tessera.storage import token_columns
from tessera.storage.compiled import Compiled
from tessera.storage.database import Database
from tessera.storage.postgres_groups import many_lookups
from tessera.storage.postgres_writes import GROUPED_REDEEM
from tessera.storage.schema import authorization_codes as codes
from tessera.storage.token_columns import new_tokens

_COLUMNS = (
    codes.c.id,
    codes.c.account_id,
    codes.c.client_id,
    codes.c.user_id,
    codes.c.redirect_uri,
    codes.c.scopes,
    codes.c.code_challenge,
    codes.c.nonce,
    codes.c.family,
    codes.c.auth_time,
    codes.c.created_at,
    codes.c.expires_at,
    codes.c.used_at,
    codes.c.audience,
    codes.c.dpop_jkt,
)
# Every code redemption runs both: see compiled.py.
_FIND = Compiled(sa.select(*_COLUMNS).where(codes.c.digest == sa.bindparam("digest")))
_FIND_MANY = many_lookups(_FIND, codes, _COLUMNS, "digest")  # on PostgreSQL, with concurrent requests'
_CLAIM = Compiled(
    codes.update()
    .where(codes.c.id == sa.bindparam("code_id"), codes.c.used_at.is_(None))
    .values(used_at=sa.bindparam("now"))
    .returning(codes.c.id)
)


def _code(row: Any) -> AuthorizationCode:
    """From a row of _COLUMNS, by position."""
    return AuthorizationCode(
        row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), row[6], row[7], row[8], row[9], row[10],
        row[11], row[12], tuple(row[13].split()), row[14],
    )  # fmt: skip


def insert(conn: Connection, new: NewCode) -> int:
    code_id: int = conn.execute(
        codes.insert()
        .values(
            digest=new.digest,
            account_id=new.account_id,
            client_id=new.client_id,
            user_id=new.user_id,
            redirect_uri=new.redirect_uri,
            scopes=" ".join(new.scopes),
            code_challenge=new.code_challenge,
            nonce=new.nonce,
            family=new.family,
            auth_time=new.auth_time,
            created_at=new.created_at,
            expires_at=new.expires_at,
            audience=" ".join(new.audience),
            dpop_jkt=new.dpop_jkt,
        )
        .returning(codes.c.id)
    ).scalar_one()
    return code_id


def redeem(conn: Connection, code_id: int, now: float, issued: TokenRows) -> Redeemed:
    if _CLAIM.fetchone(conn, {"code_id": code_id, "now": now}) is None:
        return Redeemed(access_token_id=None)  # another redemption won
    return Redeemed(access_token_id=token_columns.insert(conn, issued))


class SqlCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, code: NewCode) -> int:
        return await self.db.write(insert, code)

    async def find(self, digest: bytes) -> AuthorizationCode | None:
        row = await self.db.fetch_grouped(_FIND_MANY, {"digest": digest})
        return None if row is None else _code(row)

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        if self.db.dialect != "postgresql":
            return await self.db.write(redeem, code_id, now, tokens)
        access_id = await self.db.write_grouped(GROUPED_REDEEM, {**new_tokens(tokens), "code_id": code_id, "now": now})
        return Redeemed(access_token_id=access_id)
