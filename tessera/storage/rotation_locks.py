"""PostgreSQL advisory locks (transaction-scoped) that order refresh-token rotations against
revocations. Apart from tokens.py because not only its revocations take them: deleting a
client (clients.py) locks out the client's rotations too, and postgres_writes.ROTATE takes
a rotation's locks inside its one statement, by the namespaces and keys given here.

A family's lock has the one-key form, keyed by hashtext(family); the locks on everything
of a user or of a client have the two-key form, whose key space is apart from the one-key
form's: (namespace, id). Ids past 2^31 share a key with a smaller one, which only makes
two unrelated revocations wait for each other. SQLite has one writer at a time already:
there, taking a lock does nothing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

USER_LOCKS = 1
CLIENT_LOCKS = 2


def lock_key(row_id: int) -> int:
    """The second key of a user's or client's lock (an INTEGER, as PostgreSQL takes it)."""
    return row_id % 2_147_483_647


def _lock_key(namespace: int, row_id: int) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
    return sa.cast(sa.literal(namespace), sa.Integer), sa.cast(sa.literal(lock_key(row_id)), sa.Integer)


def lock_family(conn: Connection, family: str, *, user_id: int | None = None, client_id: int | None = None) -> None:
    """Hold the family until the transaction ends, so that a rotation and a revocation of
    one family run one after the other. Interleaved, they deadlock (a rotation holds the
    refresh row and wants the access row, a revocation the other way round), or the
    revocation's snapshot misses the tokens the rotation is writing, which stay alive in a
    revoked family.

    A rotation also passes its user and client: it then holds them shared, so that a
    revocation of everything of that user or client (lock_out_rotations) waits for the
    rotations under way and the rotations after it wait for it. All in one statement, in
    the one order (user, client, family) every caller uses: no lock cycle."""
    if conn.dialect.name != "postgresql":
        return
    locks = []
    if user_id is not None:
        locks.append(sa.func.pg_advisory_xact_lock_shared(*_lock_key(USER_LOCKS, user_id)))
    if client_id is not None:
        locks.append(sa.func.pg_advisory_xact_lock_shared(*_lock_key(CLIENT_LOCKS, client_id)))
    locks.append(sa.func.pg_advisory_xact_lock(sa.func.hashtext(family)))
    conn.execute(sa.select(*locks))


def lock_out_rotations(conn: Connection, *, user_id: int | None = None, client_id: int | None = None) -> None:
    """Before a bulk revocation (a user suspended, an app's consent withdrawn, a client
    deleted or withdrawn from an account): wait until every rotation under way for the user
    or client has committed, and make the ones after it wait until this transaction ends.

    Without it (READ COMMITTED), a rotation that had claimed its refresh token but not yet
    committed was invisible to the revocation's UPDATE: its new access and refresh tokens
    stayed alive after the revocation. With it, each statement of the revocation that
    follows sees every rotation that went before, and a rotation that comes after finds its
    refresh token revoked (its claim is refused, the grant answers invalid_grant). One lock,
    whatever the number of families."""
    if conn.dialect.name != "postgresql":
        return
    locks = []
    if user_id is not None:
        locks.append(sa.func.pg_advisory_xact_lock(*_lock_key(USER_LOCKS, user_id)))
    if client_id is not None:
        locks.append(sa.func.pg_advisory_xact_lock(*_lock_key(CLIENT_LOCKS, client_id)))
    if locks:
        conn.execute(sa.select(*locks))
