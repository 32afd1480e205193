"""The rows of access and refresh tokens: the columns read back, the statements that find,
claim, revoke and insert them on every token request (pre-compiled: compiled.py), and the
conversions between rows and the protocol's records. tokens.py builds the store on them;
codes.py and device_codes.py insert the tokens a redemption issues with `insert`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.model import AccessToken, RefreshToken
from tessera.protocol.ports import NewAccessToken, TokenRows
from tessera.storage.compiled import Compiled, CompiledInsert
from tessera.storage.postgres_groups import many_lookups
from tessera.storage.postgres_writes import ACCESS_INSERTED, REFRESH_INSERTED
from tessera.storage.schema import access_tokens, refresh_tokens

ACCESS_COLUMNS = (
    access_tokens.c.id,
    access_tokens.c.account_id,
    access_tokens.c.client_id,
    access_tokens.c.user_id,
    access_tokens.c.scopes,
    access_tokens.c.family,
    access_tokens.c.token_prefix,
    access_tokens.c.created_at,
    access_tokens.c.expires_at,
    access_tokens.c.used_at,
    access_tokens.c.revoked_at,
    access_tokens.c.audience,
    access_tokens.c.jkt,
)
# Every API call and introspection looks a token up: see compiled.py.
FIND_ACCESS = Compiled(sa.select(*ACCESS_COLUMNS).where(access_tokens.c.digest == sa.bindparam("digest")))
# On PostgreSQL, sent with the same lookups of concurrent requests (postgres_groups.py).
FIND_ACCESS_MANY = many_lookups(FIND_ACCESS, access_tokens, ACCESS_COLUMNS, "digest")
REFRESH_COLUMNS = (
    refresh_tokens.c.id,
    refresh_tokens.c.account_id,
    refresh_tokens.c.client_id,
    refresh_tokens.c.user_id,
    refresh_tokens.c.access_token_id,
    refresh_tokens.c.scopes,
    refresh_tokens.c.family,
    refresh_tokens.c.created_at,
    refresh_tokens.c.expires_at,
    refresh_tokens.c.used_at,
    refresh_tokens.c.revoked_at,
    refresh_tokens.c.audience,
    refresh_tokens.c.jkt,
)
# Every refresh runs these three: see compiled.py.
FIND_REFRESH = Compiled(sa.select(*REFRESH_COLUMNS).where(refresh_tokens.c.digest == sa.bindparam("digest")))
FIND_REFRESH_MANY = many_lookups(FIND_REFRESH, refresh_tokens, REFRESH_COLUMNS, "digest")
CLAIM_REFRESH = Compiled(
    refresh_tokens.update()
    .where(
        refresh_tokens.c.id == sa.bindparam("refresh_id"),
        refresh_tokens.c.used_at.is_(None),
        refresh_tokens.c.revoked_at.is_(None),
    )
    .values(used_at=sa.bindparam("now"))
    .returning(refresh_tokens.c.access_token_id)
)
REVOKE_ACCESS = Compiled(
    access_tokens.update()
    .where(access_tokens.c.id == sa.bindparam("token_id"), access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
# Every grant writes one: see compiled.py.
INSERT_ACCESS = CompiledInsert(access_tokens, ACCESS_INSERTED)
INSERT_REFRESH = CompiledInsert(refresh_tokens, (*REFRESH_INSERTED, "access_token_id"))


def access_of(row: Any) -> AccessToken:
    """From a row of ACCESS_COLUMNS, by position (a Row or a driver tuple): every API call
    and introspection builds one, and keyword arguments cost a third more."""
    return AccessToken(
        row[0], row[1], row[2], row[3], tuple(row[4].split()), row[5], row[6], row[7], row[8], row[9], row[10],
        tuple(row[11].split()) if row[11] else (), row[12],
    )  # fmt: skip


def refresh_of(row: Any) -> RefreshToken:
    """From a row of REFRESH_COLUMNS, by position."""
    return RefreshToken(
        row[0], row[1], row[2], row[3], row[4], tuple(row[5].split()), row[6], row[7], row[8], row[9], row[10],
        tuple(row[11].split()), row[12],
    )  # fmt: skip


def access_row(a: NewAccessToken) -> dict[str, Any]:
    return {
        "digest": a.digest,
        "token_prefix": a.token_prefix,
        "account_id": a.account_id,
        "client_id": a.client_id,
        "user_id": a.user_id,
        "scopes": " ".join(a.scopes),
        "family": a.family,
        "created_at": a.created_at,
        "expires_at": a.expires_at,
        "audience": " ".join(a.audience),
        "jkt": a.jkt,
    }


def refresh_row(tokens: TokenRows) -> dict[str, Any]:
    """The refresh token's columns but access_token_id, which is the access token's new id."""
    a, r = tokens.access, tokens.refresh
    assert r is not None
    return {
        "digest": r.digest,
        "account_id": a.account_id,
        "client_id": a.client_id,
        "user_id": a.user_id,
        "scopes": " ".join(a.scopes if r.scopes is None else r.scopes),
        "family": a.family,
        "created_at": a.created_at,
        "expires_at": r.expires_at,
        "audience": " ".join(a.audience if r.audience is None else r.audience),
        "jkt": r.jkt,
    }


def new_tokens(tokens: TokenRows) -> dict[str, Any]:
    """The parameters of postgres_writes' statements for the tokens they insert."""
    params = {f"a_{name}": value for name, value in access_row(tokens.access).items()}
    if tokens.refresh is None:
        params.update({f"r_{name}": None for name in REFRESH_INSERTED}, with_refresh=False)
    else:
        params.update({f"r_{name}": value for name, value in refresh_row(tokens).items()}, with_refresh=True)
    return params


def insert(conn: Connection, tokens: TokenRows) -> int:
    access_id: int = INSERT_ACCESS.execute(conn, access_row(tokens.access))
    if tokens.refresh is not None:
        INSERT_REFRESH.execute(conn, {**refresh_row(tokens), "access_token_id": access_id})
    return access_id
