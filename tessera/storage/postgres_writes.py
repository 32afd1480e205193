"""PostgreSQL: redeeming a code and rotating a refresh token, each as one statement.

On SQLite these are a few statements inside the write batch (codes.redeem, tokens.rotate),
which costs microseconds each. On PostgreSQL every statement is a round trip, and BEGIN
and COMMIT two more: a rotation took seven. Here each is a single statement of
data-modifying WITH clauses, atomic by itself, sent without a transaction around it
(Database.write_one): one round trip, and PostgreSQL commits it on its own.

The rules are the same as the statement-by-statement forms':
- a code or refresh token is claimed by a conditional UPDATE, so that of concurrent uses
  exactly one wins; the tokens are inserted only from the claimed row;
- a rotation first takes the advisory locks of rotation_locks.lock_family (the user's and the
  client's shared, the family's exclusive) in the one order every caller uses. The claim's
  EXISTS on them makes PostgreSQL take them before it reads the refresh token; a bulk
  revocation that committed while the rotation waited for them has revoked the token, and
  the UPDATE, which re-reads a row changed by a committed transaction, then claims nothing.
  The locks are released when the statement commits.

Parameters: `a_*` the access token's columns, `r_*` the refresh token's, `with_refresh`
whether there is one. Each is cast to its column's type, so that a NULL has one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tessera.storage.compiled import Compiled
from tessera.storage.rotation_locks import CLIENT_LOCKS, USER_LOCKS
from tessera.storage.schema import access_tokens, refresh_tokens

ACCESS_INSERTED = (
    "digest",
    "token_prefix",
    "account_id",
    "client_id",
    "user_id",
    "scopes",
    "family",
    "created_at",
    "expires_at",
    "audience",
    "jkt",
)
REFRESH_INSERTED = (
    "digest",
    "account_id",
    "client_id",
    "user_id",
    "scopes",
    "family",
    "created_at",
    "expires_at",
    "audience",
    "jkt",
)

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _cast(table: sa.Table, column: str, prefix: str) -> str:
    return f"CAST(:{prefix}{column} AS {table.c[column].type.compile(dialect=_DIALECT)})"


def _new_tokens(source: str) -> str:
    """The WITH clauses inserting the access token (one row per row of `source`) and, if
    asked, its refresh token; the statement then answers the access token's id."""
    access_values = ", ".join(_cast(access_tokens, name, "a_") for name in ACCESS_INSERTED)
    refresh_values = ", ".join(_cast(refresh_tokens, name, "r_") for name in REFRESH_INSERTED)
    # Built once at import from the schema's own names: no value ever enters the SQL text.
    return (
        f"access AS (INSERT INTO access_tokens ({', '.join(ACCESS_INSERTED)}) "  # noqa: S608
        f"SELECT {access_values} FROM {source} RETURNING id), "
        f"refresh AS (INSERT INTO refresh_tokens ({', '.join(REFRESH_INSERTED)}, access_token_id) "
        f"SELECT {refresh_values}, access.id FROM access WHERE CAST(:with_refresh AS BOOLEAN)) "
        "SELECT id FROM access"
    )


REDEEM = Compiled(
    sa.text(
        "WITH claimed AS (UPDATE authorization_codes SET used_at = CAST(:now AS FLOAT(53)) "  # noqa: S608
        "WHERE id = CAST(:code_id AS BIGINT) AND used_at IS NULL RETURNING id), " + _new_tokens("claimed")
    )
)

ROTATE = Compiled(
    sa.text(
        f"WITH locks AS (SELECT pg_advisory_xact_lock_shared({USER_LOCKS}, CAST(:user_key AS INTEGER)), "  # noqa: S608
        f"pg_advisory_xact_lock_shared({CLIENT_LOCKS}, CAST(:client_key AS INTEGER)), "
        "pg_advisory_xact_lock(hashtext(CAST(:family AS TEXT)))), "
        "claimed AS (UPDATE refresh_tokens SET used_at = CAST(:now AS FLOAT(53)) "
        "WHERE id = CAST(:refresh_id AS BIGINT) AND used_at IS NULL AND revoked_at IS NULL "
        "AND EXISTS (SELECT 1 FROM locks) RETURNING access_token_id), "
        "revoked AS (UPDATE access_tokens SET revoked_at = CAST(:now AS FLOAT(53)) "
        "WHERE id = (SELECT access_token_id FROM claimed) AND revoked_at IS NULL), " + _new_tokens("claimed")
    )
)
