"""Signing keys per account and algorithm: a current key, a next key published ahead of
its use, and retired keys published until the tokens they signed have expired.

Private keys are stored only encrypted (tessera/key_cipher.py); this module never sees
them in the clear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from tessera.model import AuditEntry, SigningKey
from tessera.storage.audit import audited
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.schema import signing_keys as keys


@dataclass(frozen=True, slots=True)
class NewKey:
    kid: str
    alg: str
    public_jwk: str
    private_jwe: str


def _key(row: Row) -> SigningKey:  # type: ignore[type-arg]
    return SigningKey(
        id=row.id,
        account_id=row.account_id,
        kid=row.kid,
        alg=row.alg,
        public_jwk=row.public_jwk,
        created_at=row.created_at,
        activated_at=row.activated_at,
        retired_at=row.retired_at,
    )


_PUBLISHED = sa.select(keys).where(keys.c.account_id == sa.bindparam("account_id")).order_by(keys.c.id)
_CURRENT = sa.select(keys.c.kid, keys.c.private_jwe).where(
    keys.c.account_id == sa.bindparam("account_id"),
    keys.c.alg == sa.bindparam("alg"),
    keys.c.activated_at.is_not(None),
    keys.c.retired_at.is_(None),
)


def published(conn: Connection, account_id: int) -> list[SigningKey]:
    return [_key(row) for row in conn.execute(_PUBLISHED, {"account_id": account_id})]


def current_private(conn: Connection, account_id: int, alg: str) -> tuple[str, str] | None:
    """(kid, encrypted private JWK) of the key that signs now."""
    row = conn.execute(_CURRENT, {"account_id": account_id, "alg": alg}).first()
    return None if row is None else (row.kid, row.private_jwe)


def newest_sealed(conn: Connection) -> str | None:
    """The encrypted private JWK of the newest key of any account, None when there is none:
    what `tessera serve` opens at start to check the secret key."""
    return conn.execute(sa.select(keys.c.private_jwe).order_by(keys.c.id.desc()).limit(1)).scalar()


def _insert(conn: Connection, account_id: int, key: NewKey, now: float, activated: bool) -> None:
    conn.execute(
        keys.insert().values(
            account_id=account_id,
            kid=key.kid,
            alg=key.alg,
            public_jwk=key.public_jwk,
            private_jwe=key.private_jwe,
            created_at=now,
            activated_at=now if activated else None,
        )
    )


def install(conn: Connection, account_id: int, key_sets: list[tuple[NewKey, NewKey]], now: float) -> None:
    """Give an account its first (current, next) keys for every algorithm it lacks, in one
    transaction, so that nobody ever sees a half-made key set. If another node races this,
    the unique indexes let only one set in; the loser's transaction fails with Duplicate
    and the caller re-reads the winner's keys."""
    try:
        for current, following in key_sets:
            if current_private(conn, account_id, current.alg) is None:
                _insert(conn, account_id, current, now, activated=True)
                _insert(conn, account_id, following, now, activated=False)
    except IntegrityError:  # a concurrent install won (uq_signing_keys_current / _next)
        raise Duplicate("signing key") from None


def rotate(conn: Connection, account_id: int, following: NewKey, now: float) -> str | None:
    """Retire the current key, promote the next one, publish a new next. Returns the new
    signing kid, or None if the account had no keys for the algorithm."""
    alg = following.alg
    where = (keys.c.account_id == account_id) & (keys.c.alg == alg)
    promoted = conn.execute(sa.select(keys.c.id, keys.c.kid).where(where, keys.c.activated_at.is_(None))).first()
    if promoted is None:
        return None
    conn.execute(
        keys.update().where(where, keys.c.activated_at.is_not(None), keys.c.retired_at.is_(None)).values(retired_at=now)
    )
    conn.execute(keys.update().where(keys.c.id == promoted.id).values(activated_at=now))
    _insert(conn, account_id, following, now, activated=False)
    return str(promoted.kid)


def purge_retired(conn: Connection, horizon: float) -> int:
    return conn.execute(keys.delete().where(keys.c.retired_at <= horizon)).rowcount


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def published(self, account_id: int) -> list[SigningKey]:
        return await self.db.read(published, account_id)

    async def current_private(self, account_id: int, alg: str) -> tuple[str, str] | None:
        return await self.db.read(current_private, account_id, alg)

    async def newest_sealed(self) -> str | None:
        return await self.db.read(newest_sealed)

    async def install(self, account_id: int, key_sets: list[tuple[NewKey, NewKey]], now: float) -> None:
        await self.db.write(install, account_id, key_sets, now)

    async def rotate(
        self,
        account_id: int,
        following: NewKey,
        now: float,
        audit: Callable[[str], Iterable[AuditEntry]] | None = None,
    ) -> str | None:
        """Rotate one algorithm's keys; `audit(new_kid)` is written in the same transaction
        when a key was promoted."""
        if audit is None:
            return await self.db.write(rotate, account_id, following, now)
        recorded = audit
        fn = audited(rotate, lambda kid: () if kid is None else recorded(kid))
        return await self.db.write(fn, account_id, following, now)
