"""Consents: a user's remembered consent to a client (lets a repeat authorization skip the
consent page). The table keeps its first name, `grants`; "grant" in the code means a grant type."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.model import AuditEntry, Client, Consent
from tessera.storage import client_rows
from tessera.storage import tokens as token_rows
from tessera.storage.audit import audited
from tessera.storage.database import Database
from tessera.storage.schema import access_tokens, authorization_codes, grants

_FIND = sa.select(grants).where(
    grants.c.user_id == sa.bindparam("user_id"), grants.c.client_id == sa.bindparam("client_id")
)


def _grant(row: Row) -> Consent:  # type: ignore[type-arg]
    return Consent(
        id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def find(conn: Connection, user_id: int, client_id: int) -> Consent | None:
    row = conn.execute(_FIND, {"user_id": user_id, "client_id": client_id}).first()
    return None if row is None else _grant(row)


def remember(
    conn: Connection, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
) -> Consent:
    existing = find(conn, user_id, client_id)
    if existing is None:
        conn.execute(
            grants.insert().values(
                account_id=account_id,
                user_id=user_id,
                client_id=client_id,
                scopes=" ".join(scopes),
                created_at=now,
                updated_at=now,
            )
        )
    else:
        union = existing.scopes + tuple(s for s in scopes if s not in existing.scopes)
        conn.execute(grants.update().where(grants.c.id == existing.id).values(scopes=" ".join(union), updated_at=now))
    found = find(conn, user_id, client_id)
    assert found is not None
    return found


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    """A grant as the user's "authorized apps" page shows it."""

    grant: Consent
    client: Client
    last_used_at: float | None


def authorized_apps(conn: Connection, account_id: int, user_id: int) -> list[AuthorizedApp]:
    last_used = (
        sa.select(sa.func.max(access_tokens.c.used_at))
        .where(access_tokens.c.user_id == grants.c.user_id, access_tokens.c.client_id == grants.c.client_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(grants, last_used.label("last_used_at"))
        .where(grants.c.account_id == account_id, grants.c.user_id == user_id)
        .order_by(grants.c.created_at)
    ).all()
    apps = []
    for row in rows:
        client = client_rows.by_numeric_id(conn, account_id, row.client_id)
        if client is not None:
            apps.append(AuthorizedApp(grant=_grant(row), client=client, last_used_at=row.last_used_at))
    return apps


def forget(conn: Connection, user_id: int, client_id: int, now: float) -> bool:
    """Withdraw consent: delete the grant, the codes not yet redeemed (else one issued a
    moment before would still buy tokens) and revoke every token the client holds for the
    user. True when there was a consent to withdraw."""
    deleted = conn.execute(grants.delete().where(grants.c.user_id == user_id, grants.c.client_id == client_id))
    conn.execute(
        authorization_codes.delete().where(
            authorization_codes.c.user_id == user_id,
            authorization_codes.c.client_id == client_id,
            authorization_codes.c.used_at.is_(None),
        )
    )
    token_rows.revoke_user_client(conn, user_id, client_id, now)
    return bool(deleted.rowcount)


class SqlConsentStore:
    def __init__(self, db: Database, tokens: token_rows.SqlTokenStore) -> None:
        self.db = db
        self.tokens = tokens  # whose memo forgetting a grant must empty: it revokes tokens

    async def find(self, user_id: int, client_id: int) -> Consent | None:
        return await self.db.read(find, user_id, client_id)

    async def remember(
        self,
        account_id: int,
        user_id: int,
        client_id: int,
        scopes: tuple[str, ...],
        now: float,
        audit: AuditEntry | None = None,
    ) -> Consent:
        """Record consent; `audit` (AUTHORIZE) is written in the same transaction."""
        fn = remember if audit is None else audited(remember, lambda _: (audit,))
        return await self.db.write(fn, account_id, user_id, client_id, scopes, now)

    async def authorized_apps(self, account_id: int, user_id: int) -> list[AuthorizedApp]:
        return await self.db.read(authorized_apps, account_id, user_id)

    async def forget(self, user_id: int, client_id: int, now: float, audit: AuditEntry | None = None) -> None:
        """Withdraw consent; `audit` (REVOKE) is written with it when there was one."""
        fn = forget if audit is None else audited(forget, lambda withdrawn: (audit,) if withdrawn else ())
        try:
            await self.db.write(fn, user_id, client_id, now)
        finally:
            self.tokens.forget()
