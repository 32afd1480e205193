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

GROUPED_REDEEM and GROUPED_ROTATE are the same writes for many requests at once
(postgres_groups.py): the parameters come as arrays, unnested into the rows of `input`,
each numbered `n`; every request's claim is its own (the UPDATE ... FROM input claims each
row only if it is unused), and the statement answers each claimed row's `n` with its new
access token's id. A grouped rotation takes its locks without waiting (a row whose locks
are held answers ok = false and is sent again alone, by ROTATE, which waits for them).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tessera.storage.compiled import Compiled
from tessera.storage.grouped import RUN_ALONE, Grouped, Rows
from tessera.storage.postgres_groups import by_ordinality
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


# The parameters of the grouped statements: their names and PostgreSQL types, in order.
_TOKEN_PARAMETERS = (
    *((f"a_{name}", access_tokens.c[name].type.compile(dialect=_DIALECT)) for name in ACCESS_INSERTED),
    *((f"r_{name}", refresh_tokens.c[name].type.compile(dialect=_DIALECT)) for name in REFRESH_INSERTED),
    ("with_refresh", "BOOLEAN"),
)


def _input(parameters: tuple[tuple[str, str], ...]) -> str:
    """The WITH clause unnesting one array per parameter into the rows of `input`."""
    arrays = ", ".join(f"${position}::{kind}[]" for position, (_, kind) in enumerate(parameters, 1))
    names = ", ".join(name for name, _ in parameters)
    return f"input AS (SELECT * FROM unnest({arrays}) WITH ORDINALITY AS input ({names}, n))"  # noqa: S608


def _new_tokens_of_claimed() -> str:
    """The WITH clauses inserting, for every claimed row of `input`, its access token and,
    if asked, its refresh token (`access` answers the ids with their digests)."""
    access_values = ", ".join(f"input.a_{name}" for name in ACCESS_INSERTED)
    refresh_values = ", ".join(f"input.r_{name}" for name in REFRESH_INSERTED)
    return (
        f"access AS (INSERT INTO access_tokens ({', '.join(ACCESS_INSERTED)}) "  # noqa: S608
        f"SELECT {access_values} FROM input JOIN claimed USING (n) ORDER BY n RETURNING id, digest), "
        f"refresh AS (INSERT INTO refresh_tokens ({', '.join(REFRESH_INSERTED)}, access_token_id) "
        f"SELECT {refresh_values}, access.id FROM input JOIN access ON access.digest = input.a_digest "
        "WHERE input.with_refresh)"
    )


_REDEEM_PARAMETERS = (("code_id", "BIGINT"), ("now", "FLOAT(53)"), *_TOKEN_PARAMETERS)

GROUPED_REDEEM: Grouped[int | None] = Grouped(
    REDEEM,
    tuple(name for name, _ in _REDEEM_PARAMETERS),
    (
        f"WITH {_input(_REDEEM_PARAMETERS)}, "  # noqa: S608 (the schema's names, never a value)
        "claimed AS (UPDATE authorization_codes AS code SET used_at = input.now FROM input "
        "WHERE code.id = input.code_id AND code.used_at IS NULL RETURNING input.n), "
        f"{_new_tokens_of_claimed()} "
        "SELECT input.n, access.id FROM input JOIN access ON access.digest = input.a_digest"
    ),
    by_ordinality,
)

_ROTATE_PARAMETERS = (
    ("refresh_id", "BIGINT"),
    ("now", "FLOAT(53)"),
    ("family", "TEXT"),
    ("user_key", "INTEGER"),
    ("client_key", "INTEGER"),
    *_TOKEN_PARAMETERS,
)


def _rotated(rows: Rows, count: int) -> list[int | None]:
    """Rows of (n, ok, access token id): RUN_ALONE for a row whose locks were held."""
    answers: list[int | None] = [None] * count
    for n, ok, access_id in rows:
        answers[n - 1] = access_id if ok else RUN_ALONE
    return answers


GROUPED_ROTATE: Grouped[int | None] = Grouped(
    ROTATE,
    tuple(name for name, _ in _ROTATE_PARAMETERS),
    (
        f"WITH {_input(_ROTATE_PARAMETERS)}, "  # noqa: S608 (the schema's names, never a value)
        # MATERIALIZED: every row's locks are tried once, before any claim reads its token.
        "locked AS MATERIALIZED (SELECT n, "
        f"pg_try_advisory_xact_lock_shared({USER_LOCKS}, input.user_key) "
        f"AND pg_try_advisory_xact_lock_shared({CLIENT_LOCKS}, input.client_key) "
        "AND pg_try_advisory_xact_lock(hashtext(input.family)) AS ok FROM input), "
        "claimed AS (UPDATE refresh_tokens AS token SET used_at = input.now "
        "FROM input JOIN locked USING (n) "
        "WHERE locked.ok AND token.id = input.refresh_id AND token.used_at IS NULL AND token.revoked_at IS NULL "
        "RETURNING input.n, token.access_token_id, input.now), "
        "revoked AS (UPDATE access_tokens AS old SET revoked_at = claimed.now FROM claimed "
        "WHERE old.id = claimed.access_token_id AND old.revoked_at IS NULL), "
        f"{_new_tokens_of_claimed()} "
        "SELECT locked.n, locked.ok, access.id FROM locked JOIN input USING (n) "
        "LEFT JOIN access ON access.digest = input.a_digest"
    ),
    _rotated,
)
