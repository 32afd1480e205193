"""OAuth clients: an account's own, and global ones (account_id NULL) usable on every account.

SqlClientStore, with the memos every token request reads through, and what only an
account's admins do to its own clients: list them, read one, give it a new secret, delete
it with everything it holds. The rows, their lookups and the identifier rule are
client_rows.py's; the global clients an account authorized are global_clients.py's;
clients described by a metadata document are document_clients.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AuditEntry, Client
from tessera.storage import client_rows, document_clients, global_clients, rotation_locks
from tessera.storage import tokens as token_rows
from tessera.storage.audit import audited
from tessera.storage.cache import Memo
from tessera.storage.changes import watch_of
from tessera.storage.client_rows import NewClient, client_of_row
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.ids import storable
from tessera.storage.schema import (
    access_tokens,
    authorization_codes,
    client_registrations,
    clients,
    grants,
    refresh_tokens,
)

# The audit entries a change records, computed from its result (storage/audit.py).
Record = Callable[[Any], Iterable[AuditEntry]]


def set_secret(
    conn: Connection,
    client_id: int,
    secret_hash: bytes,
    secret_prefix: str,
    now: float,
    previous_hash: bytes | None = None,
    previous_expires_at: float | None = None,
) -> Client | None:
    """A new secret; the previous one keeps working until `previous_expires_at` when given."""
    row = conn.execute(
        clients.update()
        .where(clients.c.id == client_id)
        .values(
            secret_hash=secret_hash,
            secret_prefix=secret_prefix,
            previous_secret_hash=previous_hash,
            previous_secret_expires_at=previous_expires_at,
            updated_at=now,
        )
        .returning(*clients.c)
    ).first()
    return None if row is None else client_of_row(row)


def list_for_account(conn: Connection, account_id: int | None, after_id: int, limit: int) -> list[Client]:
    """The account's own clients (not the global ones; None: the global ones), in id order,
    after a cursor."""
    rows = conn.execute(
        sa.select(clients)
        .where(client_rows.owned_by(account_id), clients.c.id > after_id)
        .order_by(clients.c.id)
        .limit(limit)
    )
    return [client_of_row(row) for row in rows]


def get_own(conn: Connection, account_id: int | None, client_id: int) -> Client | None:
    row = conn.execute(sa.select(clients).where(client_rows.owned_by(account_id), clients.c.id == client_id)).first()
    return None if row is None else client_of_row(row)


def delete_with_everything(conn: Connection, account_id: int | None, client_id: int) -> Client | None:
    """Delete an account's own client (None: a global client) with every token, code and
    consent it holds, in every account, at once (INTERFACE.md section 6); the deleted
    client, or None when there was none."""
    client = get_own(conn, account_id, client_id)
    if client is None:
        return None
    rotation_locks.lock_out_rotations(conn, client_id=client_id)
    for table in (refresh_tokens, access_tokens, authorization_codes, grants, client_registrations):
        conn.execute(table.delete().where(table.c.client_id == client_id))
    conn.execute(clients.delete().where(clients.c.id == client_id))
    return client


class SqlClientStore:
    def __init__(self, db: Database, tokens: token_rows.SqlTokenStore | None = None) -> None:
        self.db = db
        # Every token request authenticates its client: see cache.py for the staleness bound.
        self._memo: Memo[tuple[int, str], Client] = Memo(watch=watch_of(db))
        # Introspection by a resource server loads the token's client by numeric id.
        self._by_id: Memo[tuple[int, int], Client] = Memo(watch=watch_of(db))
        self.tokens = tokens  # whose memo deleting a client or revoking a global one must empty

    def _forget(self) -> None:
        """After any change to a client: a global client is remembered once per account,
        and an identifier may have changed, so forget them all (cheap: changes are rare)."""
        self._memo.clear()
        self._by_id.clear()

    def forget(self) -> None:
        """After a change made by another store (a registration updated, RFC 7592)."""
        self._forget()

    def _forget_tokens(self) -> None:
        if self.tokens is not None:
            self.tokens.forget()

    async def find(self, account_id: int, identifier: str) -> Client | None:
        return await self._memo.read_through(
            (account_id, identifier), self.db, client_rows.find, account_id, identifier
        )

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        if not storable(numeric_id):
            return None
        return await self._by_id.read_through(
            (account_id, numeric_id), self.db, client_rows.by_numeric_id, account_id, numeric_id
        )

    async def find_global(self, identifier: str) -> Client | None:
        return await self.db.read(client_rows.find_global, identifier)

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return await self.db.read(client_rows.redirect_uri_registered, account_id, uri)

    async def set_secret(
        self,
        client_id: int,
        secret_hash: bytes,
        secret_prefix: str,
        now: float,
        *,
        previous_hash: bytes | None = None,
        previous_expires_at: float | None = None,
        record: Record | None = None,
    ) -> Client | None:
        """A new secret, and the previous one with the time it stops working (None: at once)."""
        fn = set_secret if record is None else audited(set_secret, record)
        try:
            return await self.db.write(
                fn, client_id, secret_hash, secret_prefix, now, previous_hash, previous_expires_at
            )
        finally:
            self._forget()

    async def save_document_client(self, new: NewClient, now: float, record: Record) -> Client:
        """See save_document_client; `record` gets (client, "created"|"updated"|"")."""
        try:
            saved: tuple[Client, str] = await self.db.write(
                audited(document_clients.save_document_client, record), new, now
            )
        except Duplicate:  # a concurrent first use inserted it (PostgreSQL, READ COMMITTED)
            assert new.account_id is not None
            found = await self.db.read(client_rows.find, new.account_id, new.identifier)
            if found is None:
                raise
            return found
        finally:
            self._forget()
        return saved[0]

    async def create(self, new: NewClient, now: float, record: Record | None = None) -> Client:
        return await self.db.write(
            client_rows.insert if record is None else audited(client_rows.insert, record), new, now
        )

    async def list_for_account(self, account_id: int | None, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        return await self.db.read(list_for_account, account_id, after_id, limit)

    async def get_own(self, account_id: int | None, client_id: int) -> Client | None:
        """An account's own client by numeric id, read from the database (never a global
        one; None: a global one only)."""
        if not storable(client_id):
            return None
        return await self.db.read(get_own, account_id, client_id)

    async def update(
        self, account_id: int | None, client_id: int, values: Mapping[str, Any], now: float, record: Record
    ) -> Client | None:
        try:
            return await self.db.write(audited(client_rows.update, record), account_id, client_id, values, now)
        finally:
            self._forget()

    async def delete_with_everything(self, account_id: int | None, client_id: int, record: Record) -> Client | None:
        try:
            return await self.db.write(audited(delete_with_everything, record), account_id, client_id)
        finally:
            self._forget()
            self._forget_tokens()

    async def authorized_global(
        self, account_id: int, now: float, *, after_id: int = 0, limit: int = 100
    ) -> list[Client]:
        return await self.db.read(global_clients.authorized_global, account_id, now, after_id, limit)

    async def get_authorized_global(self, account_id: int, client_id: int, now: float) -> Client | None:
        return await self.db.read(global_clients.get_authorized_global, account_id, client_id, now)

    async def revoke_global(self, account_id: int, client_id: int, now: float, record: Record) -> Client | None:
        try:
            return await self.db.write(audited(global_clients.revoke_global, record), account_id, client_id, now)
        finally:
            self._forget_tokens()
