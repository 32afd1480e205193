"""OAuth clients: an account's own, and global ones (account_id NULL) usable on every account."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from tessera.model import AuditEntry, Client
from tessera.protocol import redirect_uri
from tessera.storage import tokens as token_rows
from tessera.storage.audit import audited
from tessera.storage.cache import Memo
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

_usable_on = sa.or_(clients.c.account_id == sa.bindparam("account_id"), clients.c.account_id.is_(None))
# An account's own client wins over a global one with the same identifier (creation refuses
# such pairs; the order makes the lookup deterministic all the same).
_FIND = (
    sa.select(clients)
    .where(clients.c.identifier == sa.bindparam("identifier"), _usable_on)
    .order_by(clients.c.account_id.is_(None))
    .limit(1)
)
_FIND_GLOBAL = sa.select(clients).where(
    clients.c.identifier == sa.bindparam("identifier"), clients.c.account_id.is_(None)
)
_BY_NUMERIC_ID = sa.select(clients).where(clients.c.id == sa.bindparam("id"), _usable_on)
_IDENTIFIER_TAKEN = (
    sa.select(clients.c.id)
    .where(
        clients.c.identifier == sa.bindparam("identifier"),
        sa.or_(
            clients.c.account_id.is_(None),
            clients.c.account_id == sa.bindparam("account_id"),
            sa.bindparam("is_global", type_=sa.Boolean),
        ),
    )
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class NewClient:
    account_id: int | None
    identifier: str
    name: str
    description: str
    company: str
    logo_url: str
    redirect_uris: tuple[str, ...]
    kind: str
    grant_types: tuple[str, ...]
    allowed_scopes: tuple[str, ...]
    access_token_lifetime: int | None
    refresh_token_lifetime: int
    access_token_format: str
    introspection: bool
    user_id: int | None
    secret_hash: bytes | None
    secret_prefix: str
    signing_alg: str = "ES256"
    registration: str = "admin"
    require_par: bool = False
    require_dpop: bool = False
    jwks: str | None = None


def _client(row: Row) -> Client:  # type: ignore[type-arg]
    return Client(
        id=row.id,
        account_id=row.account_id,
        identifier=row.identifier,
        name=row.name,
        description=row.description,
        company=row.company,
        logo_url=row.logo_url,
        redirect_uris=tuple(u for u in row.redirect_uris.split("\n") if u),
        kind=row.kind,
        grant_types=frozenset(row.grant_types.split()),
        allowed_scopes=tuple(row.allowed_scopes.split()),
        access_token_lifetime=row.access_token_lifetime,
        refresh_token_lifetime=row.refresh_token_lifetime,
        access_token_format=row.access_token_format,
        introspection=bool(row.introspection),
        user_id=row.user_id,
        secret_hash=None if row.secret_hash is None else bytes(row.secret_hash),
        secret_prefix=row.secret_prefix,
        created_at=row.created_at,
        updated_at=row.updated_at,
        signing_alg=row.signing_alg,
        previous_secret_hash=None if row.previous_secret_hash is None else bytes(row.previous_secret_hash),
        previous_secret_expires_at=row.previous_secret_expires_at,
        registration=row.registration,
        require_par=bool(row.require_par),
        require_dpop=bool(row.require_dpop),
        jwks=row.jwks,
    )


# For storage modules that read client rows joined with their own columns.
client_of_row = _client


def find(conn: Connection, account_id: int, identifier: str) -> Client | None:
    row = conn.execute(_FIND, {"account_id": account_id, "identifier": identifier}).first()
    return None if row is None else _client(row)


def by_numeric_id(conn: Connection, account_id: int, numeric_id: int) -> Client | None:
    row = conn.execute(_BY_NUMERIC_ID, {"account_id": account_id, "id": numeric_id}).first()
    return None if row is None else _client(row)


def find_global(conn: Connection, identifier: str) -> Client | None:
    row = conn.execute(_FIND_GLOBAL, {"identifier": identifier}).first()
    return None if row is None else _client(row)


def redirect_uri_registered(conn: Connection, account_id: int, uri: str) -> bool:
    """Whether a client usable on the account registered this redirect URI.

    Not counting clients described by a metadata document: anyone can publish one, and
    with it a redirect URI, so counting them would make the return_to of the login and
    logout pages an open redirector."""
    rows = conn.execute(
        sa.select(clients.c.redirect_uris).where(
            _usable_on,
            clients.c.registration != "metadata_document",
            clients.c.redirect_uris.contains(uri, autoescape=True),
        ),
        {"account_id": account_id},
    )
    return any(redirect_uri.matches(uri, registered) for row in rows for registered in row.redirect_uris.split("\n"))


def insert(conn: Connection, new: NewClient, now: float) -> Client:
    # A global identifier must not collide with any account's, nor an account's with a global one.
    taken = conn.execute(
        _IDENTIFIER_TAKEN,
        {"identifier": new.identifier, "account_id": new.account_id, "is_global": new.account_id is None},
    ).first()
    if taken is not None:
        raise Duplicate("identifier")
    values = {
        "account_id": new.account_id,
        "identifier": new.identifier,
        "name": new.name,
        "description": new.description,
        "company": new.company,
        "logo_url": new.logo_url,
        "redirect_uris": "\n".join(new.redirect_uris),
        "kind": new.kind,
        "grant_types": " ".join(new.grant_types),
        "allowed_scopes": " ".join(new.allowed_scopes),
        "access_token_lifetime": new.access_token_lifetime,
        "refresh_token_lifetime": new.refresh_token_lifetime,
        "access_token_format": new.access_token_format,
        "introspection": new.introspection,
        "user_id": new.user_id,
        "secret_hash": new.secret_hash,
        "secret_prefix": new.secret_prefix,
        "signing_alg": new.signing_alg,
        "registration": new.registration,
        "require_par": new.require_par,
        "require_dpop": new.require_dpop,
        "jwks": new.jwks,
        "created_at": now,
        "updated_at": now,
    }
    try:
        row = conn.execute(clients.insert().values(**values).returning(*clients.c)).one()
    except IntegrityError:  # a concurrent insert won (PostgreSQL, READ COMMITTED)
        raise Duplicate("identifier") from None
    return _client(row)


# What a metadata document decides about its client; the rest keeps Tessera's defaults.
DOCUMENT_FIELDS = ("name", "logo_url", "redirect_uris", "grant_types", "allowed_scopes")


def _document_values(new: NewClient) -> dict[str, Any]:
    return {
        "name": new.name,
        "logo_url": new.logo_url,
        "redirect_uris": "\n".join(new.redirect_uris),
        "grant_types": " ".join(new.grant_types),
        "allowed_scopes": " ".join(new.allowed_scopes),
    }


def save_document_client(conn: Connection, new: NewClient, now: float) -> tuple[Client, str]:
    """The account's client described by a metadata document (identifier = its URL),
    inserted, or updated to `new`'s metadata (new redirect URIs withdraw the consents given
    to it); with "created", "updated" or "" (unchanged, or the identifier belongs to a
    client made otherwise, which is left alone)."""
    assert new.account_id is not None and new.registration == "metadata_document"
    row = conn.execute(
        sa.select(clients).where(clients.c.account_id == new.account_id, clients.c.identifier == new.identifier)
    ).first()
    if row is None:
        return insert(conn, new, now), "created"
    values = _document_values(new)
    if row.registration != "metadata_document" or all(getattr(row, k) == v for k, v in values.items()):
        return _client(row), ""
    if row.redirect_uris != values["redirect_uris"]:
        # New redirect URIs need the users' consent again (draft-ietf-oauth-client-id-
        # metadata-document-00 section 6.3): whoever now controls the document must not
        # collect codes silently on the strength of consents given to the old URIs.
        conn.execute(grants.delete().where(grants.c.client_id == row.id))
    updated = conn.execute(
        clients.update().where(clients.c.id == row.id).values(**values, updated_at=now).returning(*clients.c)
    ).one()
    return _client(updated), "updated"


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
    return None if row is None else _client(row)


def _own(account_id: int) -> sa.ColumnElement[bool]:
    return clients.c.account_id == account_id


def list_for_account(conn: Connection, account_id: int, after_id: int, limit: int) -> list[Client]:
    """The account's own clients (not the global ones), in id order, after a cursor."""
    rows = conn.execute(
        sa.select(clients).where(_own(account_id), clients.c.id > after_id).order_by(clients.c.id).limit(limit)
    )
    return [_client(row) for row in rows]


def get_own(conn: Connection, account_id: int, client_id: int) -> Client | None:
    row = conn.execute(sa.select(clients).where(_own(account_id), clients.c.id == client_id)).first()
    return None if row is None else _client(row)


def update(conn: Connection, account_id: int, client_id: int, values: Mapping[str, Any], now: float) -> Client | None:
    """Change an account's own client; `values` are column values. An identifier must stay
    unique among the account's clients and the global ones (Duplicate)."""
    if "identifier" in values:
        taken = conn.execute(
            sa.select(clients.c.id).where(
                clients.c.identifier == values["identifier"],
                clients.c.id != client_id,
                sa.or_(clients.c.account_id.is_(None), clients.c.account_id == account_id),
            )
        ).first()
        if taken is not None:
            raise Duplicate("identifier")
    try:
        row = conn.execute(
            clients.update()
            .where(_own(account_id), clients.c.id == client_id)
            .values(**values, updated_at=now)
            .returning(*clients.c)
        ).first()
    except IntegrityError:  # a concurrent change won (PostgreSQL, READ COMMITTED)
        raise Duplicate("identifier") from None
    return None if row is None else _client(row)


def delete_with_everything(conn: Connection, account_id: int, client_id: int) -> Client | None:
    """Delete an account's own client with every token, code and consent it holds, at once
    (INTERFACE.md section 6); the deleted client, or None when there was none."""
    client = get_own(conn, account_id, client_id)
    if client is None:
        return None
    token_rows.lock_out_rotations(conn, client_id=client_id)
    for table in (refresh_tokens, access_tokens, authorization_codes, grants, client_registrations):
        conn.execute(table.delete().where(table.c.client_id == client_id))
    conn.execute(clients.delete().where(clients.c.id == client_id))
    return client


def _authorized_here(account_id: int, now: float) -> sa.ColumnElement[bool]:
    """A global client that users of the account authorized: a consent or a live token."""
    consented = sa.select(grants.c.client_id).where(grants.c.account_id == account_id)
    live = [
        sa.select(table.c.client_id).where(
            table.c.account_id == account_id,
            table.c.revoked_at.is_(None),
            sa.or_(table.c.expires_at.is_(None), table.c.expires_at > now),
        )
        for table in (access_tokens, refresh_tokens)
    ]
    return sa.and_(
        clients.c.account_id.is_(None),
        sa.or_(clients.c.id.in_(consented), *(clients.c.id.in_(query) for query in live)),
    )


def authorized_global(conn: Connection, account_id: int, now: float, after_id: int, limit: int) -> list[Client]:
    rows = conn.execute(
        sa.select(clients)
        .where(_authorized_here(account_id, now), clients.c.id > after_id)
        .order_by(clients.c.id)
        .limit(limit)
    )
    return [_client(row) for row in rows]


def get_authorized_global(conn: Connection, account_id: int, client_id: int, now: float) -> Client | None:
    row = conn.execute(sa.select(clients).where(_authorized_here(account_id, now), clients.c.id == client_id)).first()
    return None if row is None else _client(row)


def revoke_global(conn: Connection, account_id: int, client_id: int, now: float) -> Client | None:
    """Withdraw a global client from one account: its consents and codes there deleted,
    its tokens there revoked. None when the client is not authorized in the account."""
    client = get_authorized_global(conn, account_id, client_id, now)
    if client is None:
        return None
    for table in (grants, authorization_codes):
        conn.execute(table.delete().where(table.c.account_id == account_id, table.c.client_id == client_id))
    token_rows.revoke_where(conn, now, account_id=account_id, client_id=client_id)
    return client


class SqlClientStore:
    def __init__(self, db: Database, tokens: token_rows.SqlTokenStore | None = None) -> None:
        self.db = db
        # Every token request authenticates its client: see cache.py for the staleness bound.
        self._memo: Memo[tuple[int, str], Client] = Memo()
        # Introspection by a resource server loads the token's client by numeric id.
        self._by_id: Memo[tuple[int, int], Client] = Memo()
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
        return await self._memo.read_through((account_id, identifier), self.db, find, account_id, identifier)

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        if not storable(numeric_id):
            return None
        return await self._by_id.read_through((account_id, numeric_id), self.db, by_numeric_id, account_id, numeric_id)

    async def find_global(self, identifier: str) -> Client | None:
        return await self.db.read(find_global, identifier)

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return await self.db.read(redirect_uri_registered, account_id, uri)

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
            saved: tuple[Client, str] = await self.db.write(audited(save_document_client, record), new, now)
        except Duplicate:  # a concurrent first use inserted it (PostgreSQL, READ COMMITTED)
            assert new.account_id is not None
            found = await self.db.read(find, new.account_id, new.identifier)
            if found is None:
                raise
            return found
        finally:
            self._forget()
        return saved[0]

    async def create(self, new: NewClient, now: float, record: Record | None = None) -> Client:
        return await self.db.write(insert if record is None else audited(insert, record), new, now)

    async def list_for_account(self, account_id: int, *, after_id: int = 0, limit: int = 100) -> list[Client]:
        return await self.db.read(list_for_account, account_id, after_id, limit)

    async def get_own(self, account_id: int, client_id: int) -> Client | None:
        """An account's own client by numeric id, read from the database (never global)."""
        if not storable(client_id):
            return None
        return await self.db.read(get_own, account_id, client_id)

    async def update(
        self, account_id: int, client_id: int, values: Mapping[str, Any], now: float, record: Record
    ) -> Client | None:
        try:
            return await self.db.write(audited(update, record), account_id, client_id, values, now)
        finally:
            self._forget()

    async def delete_with_everything(self, account_id: int, client_id: int, record: Record) -> Client | None:
        try:
            return await self.db.write(audited(delete_with_everything, record), account_id, client_id)
        finally:
            self._forget()
            self._forget_tokens()

    async def authorized_global(
        self, account_id: int, now: float, *, after_id: int = 0, limit: int = 100
    ) -> list[Client]:
        return await self.db.read(authorized_global, account_id, now, after_id, limit)

    async def get_authorized_global(self, account_id: int, client_id: int, now: float) -> Client | None:
        return await self.db.read(get_authorized_global, account_id, client_id, now)

    async def revoke_global(self, account_id: int, client_id: int, now: float, record: Record) -> Client | None:
        try:
            return await self.db.write(audited(revoke_global, record), account_id, client_id, now)
        finally:
            self._forget_tokens()
