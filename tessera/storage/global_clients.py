"""The global clients (account_id NULL) an account's users authorized, by a consent or a
live token, and withdrawing one from the account. Apart from clients.py because a global
client is not the account's to change: the account sees it only through what its users
granted, and withdrawing it removes that grant, not the client (management/global_clients.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import Client
from tessera.storage import tokens as token_rows
from tessera.storage.client_rows import client_of_row
from tessera.storage.schema import access_tokens, authorization_codes, clients, grants, refresh_tokens


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
    return [client_of_row(row) for row in rows]


def get_authorized_global(conn: Connection, account_id: int, client_id: int, now: float) -> Client | None:
    row = conn.execute(sa.select(clients).where(_authorized_here(account_id, now), clients.c.id == client_id)).first()
    return None if row is None else client_of_row(row)


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
