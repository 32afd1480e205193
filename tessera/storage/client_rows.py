"""A client's row: read into the model (client_of_row), looked up by identifier or numeric
id among the clients usable on an account (an account's own, and the global ones with
account_id NULL), and written by insert and update, which keep an identifier unique among
the account's clients and the global ones.

Apart from clients.py (SqlClientStore) because every other module about clients builds on
these: the store, dynamic registration (registrations.py), document clients, global
clients and consents; none of them needs the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from tessera.model import Client
from tessera.protocol import redirect_uri
from tessera.storage.errors import Duplicate
from tessera.storage.schema import clients

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


def client_of_row(row: Row) -> Client:  # type: ignore[type-arg]
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


def find(conn: Connection, account_id: int, identifier: str) -> Client | None:
    row = conn.execute(_FIND, {"account_id": account_id, "identifier": identifier}).first()
    return None if row is None else client_of_row(row)


def by_numeric_id(conn: Connection, account_id: int, numeric_id: int) -> Client | None:
    row = conn.execute(_BY_NUMERIC_ID, {"account_id": account_id, "id": numeric_id}).first()
    return None if row is None else client_of_row(row)


def find_global(conn: Connection, identifier: str) -> Client | None:
    row = conn.execute(_FIND_GLOBAL, {"identifier": identifier}).first()
    return None if row is None else client_of_row(row)


def redirect_uri_registered(conn: Connection, account_id: int, uri: str) -> bool:
    """Whether a client an admin registered, usable on the account, has this redirect URI.

    Not counting clients that registered themselves (RFC 7591, or described by a metadata
    document): with open registration anyone can make one, and with it a redirect URI, so
    counting them would make the return_to of the login and logout pages an open
    redirector."""
    rows = conn.execute(
        sa.select(clients.c.redirect_uris).where(
            _usable_on,
            clients.c.registration == "admin",
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
    return client_of_row(row)


def owned_by(account_id: int | None) -> sa.ColumnElement[bool]:
    """An account's own clients; None: the global ones (the platform's)."""
    return clients.c.account_id.is_(None) if account_id is None else clients.c.account_id == account_id


def update(
    conn: Connection, account_id: int | None, client_id: int, values: Mapping[str, Any], now: float
) -> Client | None:
    """Change an account's own client (None: a global client); `values` are column values.
    An identifier must stay unique as insert's rule says (Duplicate)."""
    if "identifier" in values:
        taken = conn.execute(
            _IDENTIFIER_TAKEN.where(clients.c.id != client_id),
            {"identifier": values["identifier"], "account_id": account_id, "is_global": account_id is None},
        ).first()
        if taken is not None:
            raise Duplicate("identifier")
    try:
        row = conn.execute(
            clients.update()
            .where(owned_by(account_id), clients.c.id == client_id)
            .values(**values, updated_at=now)
            .returning(*clients.c)
        ).first()
    except IntegrityError:  # a concurrent change won (PostgreSQL, READ COMMITTED)
        raise Duplicate("identifier") from None
    return None if row is None else client_of_row(row)
