"""Dynamic client registration (RFC 7591, RFC 7592): initial access tokens an admin made,
and the registration of each client that registered itself.

Both kinds of token are stored as digests only. An initial access token is claimed like a
code (DESIGN.md): one conditional UPDATE inside the transaction that creates the client,
so two registrations racing with one token make one client. A registration access token
is replaced the same way on an update (RFC 7592 section 2.2), so the old one stops working
in the transaction that issues the new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from tessera.model import Client
from tessera.storage import client_rows
from tessera.storage.audit import audited
from tessera.storage.client_rows import NewClient
from tessera.storage.clients import Record, SqlClientStore
from tessera.storage.database import Database
from tessera.storage.ids import storable
from tessera.storage.schema import client_registrations, clients, registration_tokens


class TokenNotClaimed(Exception):
    """The initial access token or registration access token was used, revoked or replaced
    meanwhile: the change is undone and the caller answers 401 invalid_token."""


@dataclass(frozen=True, slots=True)
class InitialToken:
    """An initial access token (RFC 7591 section 3), as admins see it: never the token."""

    id: int
    account_id: int
    token_prefix: str
    created_by_id: int | None
    created_by_name: str
    created_at: float
    expires_at: float
    used_at: float | None
    client_id: int | None

    def usable(self, now: float) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Registration:
    """A self-registered client with what RFC 7592 needs beside it."""

    client: Client
    token_digest: bytes
    token_endpoint_auth_method: str
    created_at: float


def _initial(row: Row) -> InitialToken:  # type: ignore[type-arg]
    return InitialToken(
        id=row.id,
        account_id=row.account_id,
        token_prefix=row.token_prefix,
        created_by_id=row.created_by_id,
        created_by_name=row.created_by_name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        client_id=row.client_id,
    )


def insert_initial(conn: Connection, values: dict[str, Any]) -> InitialToken:
    return _initial(conn.execute(registration_tokens.insert().values(**values).returning(*registration_tokens.c)).one())


def list_initial(conn: Connection, account_id: int, limit: int) -> list[InitialToken]:
    rows = conn.execute(
        sa.select(registration_tokens)
        .where(registration_tokens.c.account_id == account_id)
        .order_by(registration_tokens.c.id.desc())
        .limit(limit)
    )
    return [_initial(row) for row in rows]


def find_initial(conn: Connection, account_id: int, digest: bytes) -> InitialToken | None:
    row = conn.execute(
        sa.select(registration_tokens).where(
            registration_tokens.c.account_id == account_id, registration_tokens.c.digest == digest
        )
    ).first()
    return None if row is None else _initial(row)


def get_initial(conn: Connection, account_id: int, token_id: int) -> InitialToken | None:
    row = conn.execute(
        sa.select(registration_tokens).where(
            registration_tokens.c.account_id == account_id, registration_tokens.c.id == token_id
        )
    ).first()
    return None if row is None else _initial(row)


def delete_initial(conn: Connection, account_id: int, token_id: int) -> InitialToken | None:
    row = conn.execute(
        registration_tokens.delete()
        .where(registration_tokens.c.account_id == account_id, registration_tokens.c.id == token_id)
        .returning(*registration_tokens.c)
    ).first()
    return None if row is None else _initial(row)


def register(
    conn: Connection,
    new: NewClient,
    token_digest: bytes,
    auth_method: str,
    initial_digest: bytes | None,
    now: float,
) -> Client:
    """Create a self-registered client with its registration access token; when an initial
    access token is given, claim it in the same transaction (TokenNotClaimed if it is used,
    revoked or expired by now)."""
    claimed = None
    if initial_digest is not None:
        t = registration_tokens.c
        claimed = conn.execute(
            registration_tokens.update()
            .where(t.account_id == new.account_id, t.digest == initial_digest, t.used_at.is_(None), t.expires_at > now)
            .values(used_at=now)
            .returning(t.id)
        ).first()
        if claimed is None:
            raise TokenNotClaimed()
    client = client_rows.insert(conn, new, now)
    conn.execute(
        client_registrations.insert().values(
            client_id=client.id,
            account_id=client.account_id,
            token_digest=token_digest,
            token_endpoint_auth_method=auth_method,
            created_at=now,
            updated_at=now,
        )
    )
    if claimed is not None:
        conn.execute(
            registration_tokens.update().where(registration_tokens.c.id == claimed.id).values(client_id=client.id)
        )
    return client


def find(conn: Connection, account_id: int, identifier: str) -> Registration | None:
    """The registration of the account's self-registered client with this client_id."""
    row = conn.execute(
        sa.select(clients, client_registrations.c.token_digest, client_registrations.c.token_endpoint_auth_method)
        .add_columns(client_registrations.c.created_at.label("registered_at"))
        .join(client_registrations, client_registrations.c.client_id == clients.c.id)
        .where(clients.c.account_id == account_id, clients.c.identifier == identifier)
    ).first()
    if row is None:
        return None
    return Registration(
        client=client_rows.client_of_row(row),
        token_digest=bytes(row.token_digest),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        created_at=row.registered_at,
    )


def replace(
    conn: Connection,
    account_id: int,
    client_id: int,
    old_digest: bytes,
    new_digest: bytes,
    auth_method: str,
    values: dict[str, Any],
    now: float,
) -> Client:
    """RFC 7592 section 2.2: the client's new metadata and registration access token, if the
    old token is still the current one (TokenNotClaimed otherwise)."""
    r = client_registrations.c
    swapped = conn.execute(
        client_registrations.update()
        .where(r.client_id == client_id, r.account_id == account_id, r.token_digest == old_digest)
        .values(token_digest=new_digest, token_endpoint_auth_method=auth_method, updated_at=now)
        .returning(r.client_id)
    ).first()
    if swapped is None:
        raise TokenNotClaimed()
    updated = client_rows.update(conn, account_id, client_id, values, now)
    if updated is None:
        raise TokenNotClaimed()
    return updated


class SqlRegistrationStore:
    def __init__(self, db: Database, clients: SqlClientStore) -> None:
        self.db = db
        self.clients = clients  # whose memo a changed client must leave

    async def create_initial(self, values: dict[str, Any], record: Record) -> InitialToken:
        return await self.db.write(audited(insert_initial, record), values)

    async def list_initial(self, account_id: int, limit: int = 100) -> list[InitialToken]:
        return await self.db.read(list_initial, account_id, limit)

    async def find_initial(self, account_id: int, digest: bytes) -> InitialToken | None:
        return await self.db.read(find_initial, account_id, digest)

    async def get_initial(self, account_id: int, token_id: int) -> InitialToken | None:
        if not storable(token_id):
            return None
        return await self.db.read(get_initial, account_id, token_id)

    async def delete_initial(self, account_id: int, token_id: int, record: Record) -> InitialToken | None:
        if not storable(token_id):
            return None
        return await self.db.write(audited(delete_initial, record), account_id, token_id)

    async def register(
        self,
        new: NewClient,
        token_digest: bytes,
        auth_method: str,
        initial_digest: bytes | None,
        now: float,
        record: Record,
    ) -> Client:
        return await self.db.write(audited(register, record), new, token_digest, auth_method, initial_digest, now)

    async def find(self, account_id: int, identifier: str) -> Registration | None:
        return await self.db.read(find, account_id, identifier)

    async def replace(
        self,
        account_id: int,
        client_id: int,
        old_digest: bytes,
        new_digest: bytes,
        auth_method: str,
        values: dict[str, Any],
        now: float,
        record: Record,
    ) -> Client:
        try:
            return await self.db.write(
                audited(replace, record), account_id, client_id, old_digest, new_digest, auth_method, values, now
            )
        finally:
            self.clients.forget()
