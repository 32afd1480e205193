"""Access and refresh tokens, stored by SHA-256 digest; families tie together everything
issued from one authorization so that it can be revoked at once (RFC 6749 section 10.5,
RFC 9700 section 4.14.2).

Access tokens found by digest are remembered for LIVE_TOKEN_TTL seconds: every API call
and introspection looks its token up, and a busy client presents the same token many
times a second. The bound that makes this safe (issue 4: "a revoked token must be refused
within one second on every node"): a revocation made through this process empties the
memo before it is answered, so this node refuses the token at once; another node (or the
CLI) sees it within LIVE_TOKEN_TTL. Expiry is checked against the clock on every use, so
the memo never stretches a token's life.

The advisory locks that order a rotation against revocations on PostgreSQL are
rotation_locks.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AccessToken, AuditEntry, RefreshToken
from tessera.protocol.ports import AlreadyUsed, RevokedMeanwhile, Rotated, Rotation, TokenRows
from tessera.storage import audit as audit_log
from tessera.storage import rotation_locks
from tessera.storage.cache import Memo
from tessera.storage.compiled import Compiled
from tessera.storage.database import Database
from tessera.storage.ids import storable
from tessera.storage.postgres_writes import GROUPED_ROTATE
from tessera.storage.schema import access_tokens, refresh_tokens
from tessera.storage.token_columns import (
    ACCESS_COLUMNS,
    CLAIM_REFRESH,
    FIND_ACCESS_MANY,
    FIND_REFRESH_MANY,
    INSERT_ACCESS,
    REVOKE_ACCESS,
    access_of,
    access_row,
    insert,
    new_tokens,
    refresh_of,
)

T = TypeVar("T")


def revoke_family(conn: Connection, family: str, now: float) -> int:
    """Revoke the family's live tokens; how many access and refresh tokens were revoked."""
    rotation_locks.lock_family(conn, family)
    revoked = 0
    for table in (access_tokens, refresh_tokens):
        revoked += conn.execute(
            table.update().where(table.c.family == family, table.c.revoked_at.is_(None)).values(revoked_at=now)
        ).rowcount
    return revoked


def revoke_access(conn: Connection, token_id: int, now: float) -> int:
    return REVOKE_ACCESS.rowcount(conn, {"token_id": token_id, "now": now})


def revoke_where(
    conn: Connection, now: float, *, account_id: int, client_id: int | None = None, user_id: int | None = None
) -> None:
    """Revoke every live access and refresh token of the account held by a client, a user,
    or both (deleting a global app from an account; suspending a user)."""
    rotation_locks.lock_out_rotations(conn, user_id=user_id, client_id=client_id)
    for table in (access_tokens, refresh_tokens):
        query = table.update().where(table.c.account_id == account_id, table.c.revoked_at.is_(None))
        if client_id is not None:
            query = query.where(table.c.client_id == client_id)
        if user_id is not None:
            query = query.where(table.c.user_id == user_id)
        conn.execute(query.values(revoked_at=now))


def _if_revoked(audit: AuditEntry) -> Callable[[int], tuple[AuditEntry, ...]]:
    return lambda revoked: (audit,) if revoked else ()


# An API call records its token's use (at most once a minute per token): one statement.
_TOUCH = Compiled(
    access_tokens.update()
    .where(access_tokens.c.id == sa.bindparam("token_id"))
    .values(used_at=sa.bindparam("now"))
    .returning(access_tokens.c.id)
)


def get_access(conn: Connection, account_id: int, token_id: int) -> AccessToken | None:
    row = conn.execute(
        sa.select(*ACCESS_COLUMNS).where(access_tokens.c.account_id == account_id, access_tokens.c.id == token_id)
    ).first()
    return None if row is None else access_of(row)


def list_live(
    conn: Connection,
    account_id: int,
    now: float,
    *,
    user_id: int | None,
    client_id: int | None,
    after_id: int,
    limit: int,
) -> list[AccessToken]:
    """Access tokens still usable, oldest first, after a cursor (the last id seen)."""
    query = sa.select(*ACCESS_COLUMNS).where(
        access_tokens.c.account_id == account_id,
        access_tokens.c.revoked_at.is_(None),
        sa.or_(access_tokens.c.expires_at.is_(None), access_tokens.c.expires_at > now),
        access_tokens.c.id > after_id,
    )
    if user_id is not None:
        query = query.where(access_tokens.c.user_id == user_id)
    if client_id is not None:
        query = query.where(access_tokens.c.client_id == client_id)
    rows = conn.execute(query.order_by(access_tokens.c.id).limit(limit))
    return [access_of(row) for row in rows]


def revoke_user_client(conn: Connection, user_id: int, client_id: int, now: float) -> None:
    """Revoke everything a client holds for a user (the "authorized apps" Revoke button)."""
    rotation_locks.lock_out_rotations(conn, user_id=user_id)
    for table in (access_tokens, refresh_tokens):
        conn.execute(
            table.update()
            .where(table.c.user_id == user_id, table.c.client_id == client_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def rotate(conn: Connection, refresh_id: int, now: float, tokens: TokenRows) -> Rotation:
    """Claim the refresh token with one conditional UPDATE, so that of concurrent uses
    exactly one wins; report a token already used, or revoked since the caller read it.
    What a reuse means is the grant's. The new tokens are of the claimed token's family.
    (PostgreSQL runs the same as one statement: postgres_writes.ROTATE, sent with those of
    concurrent requests: GROUPED_ROTATE.)"""
    rotation_locks.lock_family(
        conn, tokens.access.family, user_id=tokens.access.user_id, client_id=tokens.access.client_id
    )
    claimed = CLAIM_REFRESH.fetchone(conn, {"refresh_id": refresh_id, "now": now})
    if claimed is None:
        return not_claimed(conn, refresh_id, tokens.access.family)
    if claimed[0] is not None:  # the access token the claimed refresh token came with
        revoke_access(conn, claimed[0], now)
    return Rotated(access_token_id=insert(conn, tokens))


def not_claimed(conn: Connection, refresh_id: int, family: str) -> Rotation:
    """Why a refresh token could not be claimed: used already, or revoked (or deleted)."""
    row = conn.execute(
        sa.select(refresh_tokens.c.used_at, refresh_tokens.c.family).where(refresh_tokens.c.id == refresh_id)
    ).first()
    if row is None:  # deleted since the caller read it, with its client
        return RevokedMeanwhile(family=family)
    if row.used_at is None:
        return RevokedMeanwhile(family=row.family)
    return AlreadyUsed(used_at=row.used_at, family=row.family)


def _rotate_params(refresh_id: int, now: float, tokens: TokenRows) -> dict[str, Any]:
    a = tokens.access
    return {
        **new_tokens(tokens),
        "refresh_id": refresh_id,
        "now": now,
        "family": a.family,
        # The keys of rotation_locks.lock_family's locks; -1 (no id has it) when there is no user.
        "user_key": -1 if a.user_id is None else rotation_locks.lock_key(a.user_id),
        "client_key": rotation_locks.lock_key(a.client_id),
    }


# Half the bound above: the rest is room for a revocation's commit to become visible.
LIVE_TOKEN_TTL = 0.5


class SqlTokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._live: Memo[bytes, AccessToken] = Memo(ttl=LIVE_TOKEN_TTL)

    def forget(self) -> None:
        """After any write that may have changed an access token: revoked it, deleted it,
        or recorded its use (the memo's used_at must not stay behind, or every request
        would write it again)."""
        self._live.clear()

    async def _change(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await self.db.write(fn, *args)
        finally:
            self.forget()

    async def issue(self, tokens: TokenRows) -> int:
        # A new token changes nothing remembered. Alone, an access token is one INSERT.
        if tokens.refresh is None:
            return await self.db.insert_one(INSERT_ACCESS, access_row(tokens.access))
        return await self.db.write(insert, tokens)

    async def find_access(self, digest: bytes) -> AccessToken | None:
        return await self._live.load_through(digest, lambda: self._fetch_access(digest))

    async def _fetch_access(self, digest: bytes) -> AccessToken | None:
        row = await self.db.fetch_grouped(FIND_ACCESS_MANY, {"digest": digest})
        return None if row is None else access_of(row)

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        row = await self.db.fetch_grouped(FIND_REFRESH_MANY, {"digest": digest})
        return None if row is None else refresh_of(row)

    async def rotate(self, refresh_id: int, now: float, tokens: TokenRows) -> Rotation:
        # A claim revokes the access token the refresh token came with.
        if self.db.dialect != "postgresql":
            return await self._change(rotate, refresh_id, now, tokens)
        try:
            access_id = await self.db.write_grouped(GROUPED_ROTATE, _rotate_params(refresh_id, now, tokens))
        finally:
            self.forget()
        if access_id is None:
            return await self.db.read(not_claimed, refresh_id, tokens.access.family)
        return Rotated(access_token_id=access_id)

    async def revoke_family(self, family: str, now: float, audit: AuditEntry | None = None) -> int:
        fn = revoke_family if audit is None else audit_log.audited(revoke_family, _if_revoked(audit))
        return await self._change(fn, family, now)

    async def revoke_access(self, token_id: int, now: float, audit: AuditEntry | None = None) -> int:
        fn = revoke_access if audit is None else audit_log.audited(revoke_access, _if_revoked(audit))
        return await self._change(fn, token_id, now)

    async def touch(self, token_id: int, now: float) -> None:
        try:
            await self.db.write_one(_TOUCH, {"token_id": token_id, "now": now})
        finally:
            self.forget()

    async def get_access(self, account_id: int, token_id: int) -> AccessToken | None:
        if not storable(token_id):
            return None
        return await self.db.read(get_access, account_id, token_id)

    async def list_live(
        self, account_id: int, now: float, *, user_id: int | None, client_id: int | None, after_id: int, limit: int
    ) -> list[AccessToken]:
        return await self.db.read(
            lambda conn: list_live(
                conn, account_id, now, user_id=user_id, client_id=client_id, after_id=after_id, limit=limit
            )
        )
