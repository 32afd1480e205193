"""Authorization codes: single use, enforced by a conditional UPDATE (RFC 6749 section 4.1.2).
On PostgreSQL a redemption is one statement (postgres_writes.REDEEM)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.model import AuthorizationCode
from tessera.protocol.ports import NewCode, Redeemed, TokenRows
from tessera.storage import tokens
from tessera.storage.database import Database
from tessera.storage.postgres_writes import REDEEM
from tessera.storage.schema import authorization_codes as codes
from tessera.storage.tokens import new_tokens

_FIND = sa.select(codes).where(codes.c.digest == sa.bindparam("digest"))
_CLAIM = (
    codes.update()
    .where(codes.c.id == sa.bindparam("code_id"), codes.c.used_at.is_(None))
    .values(used_at=sa.bindparam("now"))
    .returning(codes.c.id)
)


def _code(row: Row) -> AuthorizationCode:  # type: ignore[type-arg]
    return AuthorizationCode(
        id=row.id,
        account_id=row.account_id,
        client_id=row.client_id,
        user_id=row.user_id,
        redirect_uri=row.redirect_uri,
        scopes=tuple(row.scopes.split()),
        code_challenge=row.code_challenge,
        nonce=row.nonce,
        family=row.family,
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        audience=tuple(row.audience.split()),
    )


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
        )
        .returning(codes.c.id)
    ).scalar_one()
    return code_id


def find(conn: Connection, digest: bytes) -> AuthorizationCode | None:
    row = conn.execute(_FIND, {"digest": digest}).first()
    return None if row is None else _code(row)


def redeem(conn: Connection, code_id: int, now: float, issued: TokenRows) -> Redeemed:
    if conn.execute(_CLAIM, {"code_id": code_id, "now": now}).first() is None:
        return Redeemed(access_token_id=None)  # another redemption won
    return Redeemed(access_token_id=tokens.insert(conn, issued))


class SqlCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, code: NewCode) -> int:
        return await self.db.write(insert, code)

    async def find(self, digest: bytes) -> AuthorizationCode | None:
        return await self.db.read(find, digest)

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        if self.db.dialect != "postgresql":
            return await self.db.write(redeem, code_id, now, tokens)
        row = await self.db.write_one(REDEEM, {**new_tokens(tokens), "code_id": code_id, "now": now})
        return Redeemed(access_token_id=None if row is None else int(row[0]))
