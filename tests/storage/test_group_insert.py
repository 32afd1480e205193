"""Access tokens issued at the same moment share one write (on SQLite the writer's group
commit, on PostgreSQL one multi-row INSERT: storage/postgres_group_insert.py), yet each
request gets its own row, and a row the database refuses fails only its own request."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tessera.protocol import secrets
from tessera.protocol.ports import NewAccessToken, TokenRows
from tessera.storage.database import Database, open_database
from tessera.storage.errors import StorageFailed, StorageUnavailable
from tessera.storage.postgres_group_insert import many_rows_sql
from tessera.storage.stores import Stores
from tessera.storage.tokens import _INSERT_ACCESS
from tests.support import Clock, World

pytestmark = pytest.mark.anyio


def _access(account_id: int, client_id: int, user_id: int, now: float) -> NewAccessToken:
    token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    return NewAccessToken(
        digest=secrets.digest(token),
        token_prefix=token[:10],
        account_id=account_id,
        client_id=client_id,
        user_id=user_id,
        scopes=("read",),
        family=secrets.new_family(),
        created_at=now,
        expires_at=now + 1800,
    )


async def test_tokens_issued_together_each_get_their_own_row(stores: Stores, world: World, clock: Clock) -> None:
    rows = [_access(world.account.id, world.web.client.id, world.user.id, clock()) for _ in range(40)]
    ids = await asyncio.gather(*(stores.tokens.issue(TokenRows(access=row, refresh=None)) for row in rows))
    assert len(set(ids)) == len(rows)
    for row, row_id in zip(rows, ids, strict=True):
        found = await stores.tokens.find_access(row.digest)
        assert found is not None and found.id == row_id  # each request's id is its own row's


async def test_a_row_the_database_refuses_fails_alone(stores: Stores, world: World, clock: Clock) -> None:
    rows = [_access(world.account.id, world.web.client.id, world.user.id, clock()) for _ in range(10)]
    rows[4] = dataclasses.replace(rows[4], client_id=2**40)  # no such client: its foreign key fails
    outcomes = await asyncio.gather(
        *(stores.tokens.issue(TokenRows(access=row, refresh=None)) for row in rows), return_exceptions=True
    )
    assert isinstance(outcomes[4], StorageFailed)
    assert await stores.tokens.find_access(rows[4].digest) is None
    for index, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
        if index != 4:
            found = await stores.tokens.find_access(row.digest)
            assert found is not None and found.id == outcome


async def test_a_cancelled_request_leaves_the_others_answered(stores: Stores, world: World, clock: Clock) -> None:
    rows = [_access(world.account.id, world.web.client.id, world.user.id, clock()) for _ in range(6)]
    issued = [asyncio.ensure_future(stores.tokens.issue(TokenRows(access=row, refresh=None))) for row in rows]
    await asyncio.sleep(0)  # every request has queued its row
    issued[2].cancel()
    outcomes = await asyncio.gather(*issued, return_exceptions=True)
    assert isinstance(outcomes[2], asyncio.CancelledError)
    for index, row in enumerate(rows):
        if index != 2:
            found = await stores.tokens.find_access(row.digest)
            assert found is not None and found.id == outcomes[index]


async def test_on_postgresql_rows_issued_together_commit_in_one_transaction(
    stores: Stores, world: World, clock: Clock, database: Database
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's multi-row INSERT; SQLite's batch is tests/storage/test_sqlite_wal.py's")
    rows = [_access(world.account.id, world.web.client.id, world.user.id, clock()) for _ in range(20)]
    ids = await asyncio.gather(*(stores.tokens.issue(TokenRows(access=row, refresh=None)) for row in rows))

    def transactions(conn: object) -> int:
        from sqlalchemy import text

        query = text("SELECT count(DISTINCT xmin::text) FROM access_tokens WHERE id = ANY(:ids)")
        return int(conn.execute(query, {"ids": list(ids)}).scalar_one())  # type: ignore[attr-defined]

    # Every row carries the id of the transaction that inserted it: one statement, one commit.
    assert await database.read(transactions) == 1


async def test_when_postgresql_is_unreachable_every_request_of_a_batch_hears_so() -> None:
    unreachable = open_database("postgresql+psycopg://tessera@127.0.0.1:1/tessera", timeout=2)
    try:
        stores = Stores.over(unreachable)
        outcomes = await asyncio.gather(
            *(stores.tokens.issue(TokenRows(access=_access(1, 1, 1, 0.0), refresh=None)) for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(outcome, StorageUnavailable) for outcome in outcomes), outcomes
    finally:
        await unreachable.aclose()


def test_the_multi_row_insert_takes_one_array_per_column_in_order() -> None:
    from sqlalchemy.dialects import postgresql

    sql = many_rows_sql(_INSERT_ACCESS, postgresql.dialect())  # type: ignore[no-untyped-call]
    assert sql.startswith("INSERT INTO access_tokens (digest, token_prefix, account_id, ")
    assert "FROM unnest($1::BYTEA[], $2::VARCHAR(16)[], $3::BIGINT[]," in sql
    assert sql.endswith("WITH ORDINALITY AS rows (digest, token_prefix, account_id, client_id, user_id, scopes, "
                        "family, created_at, expires_at, audience, jkt, n) ORDER BY n RETURNING id")
