"""Tokens written at the same moment share one write (on SQLite the writer's group commit,
on PostgreSQL one statement per turn of the loop: storage/postgres_groups.py): client
credentials tokens, code redemptions and refresh rotations; on PostgreSQL the lookups by
digest go together too. Each request still gets its own row and its own outcome, a row the
database refuses fails only its own request, a code or refresh token is claimed once, and
a rotation whose locks are held waits for them alone."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tessera.protocol import secrets
from tessera.protocol.ports import NewAccessToken, NewRefreshToken, Rotated, TokenRows
from tessera.storage.database import Database, open_database
from tessera.storage.errors import StorageFailed, StorageUnavailable
from tessera.storage.postgres_groups import many_rows_sql
from tessera.storage.stores import Stores
from tessera.storage.token_columns import INSERT_ACCESS
from tests.support import Clock, World, new_code

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

    sql = many_rows_sql(INSERT_ACCESS, postgresql.dialect())  # type: ignore[no-untyped-call]
    assert sql.startswith("INSERT INTO access_tokens (digest, token_prefix, account_id, ")
    assert "FROM unnest($1::BYTEA[], $2::VARCHAR(16)[], $3::BIGINT[]," in sql
    assert sql.endswith(
        "WITH ORDINALITY AS rows (digest, token_prefix, account_id, client_id, user_id, scopes, "
        "family, created_at, expires_at, audience, jkt, n) ORDER BY n RETURNING id"
    )


def _with_refresh(world: World, now: float, family: str) -> tuple[TokenRows, bytes]:
    refresh = secrets.new_secret("tsr_")
    access = dataclasses.replace(_access(world.account.id, world.web.client.id, world.user.id, now), family=family)
    return TokenRows(access=access, refresh=NewRefreshToken(secrets.digest(refresh), now + 86400)), secrets.digest(
        refresh
    )


async def _code(stores: Stores, world: World, now: float) -> tuple[int, str]:
    family = secrets.new_family()
    code = new_code(world.account.id, world.web.client.id, world.user.id, now, now + 300, family=family)
    return await stores.codes.create(code), family


async def test_codes_redeemed_together_each_give_their_own_tokens(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    codes = [await _code(stores, world, now) for _ in range(12)]
    issued = [_with_refresh(world, now, family) for _, family in codes]
    redeemed = await asyncio.gather(
        *(stores.codes.redeem(code_id, now, rows) for (code_id, _), (rows, _) in zip(codes, issued, strict=True))
    )
    for outcome, (rows, refresh_digest) in zip(redeemed, issued, strict=True):
        found = await stores.tokens.find_access(rows.access.digest)
        assert found is not None and found.id == outcome.access_token_id
        refresh = await stores.tokens.find_refresh(refresh_digest)
        assert refresh is not None and refresh.access_token_id == found.id


async def test_a_code_redeemed_by_concurrent_requests_is_redeemed_once(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    code_id, family = await _code(stores, world, now)
    attempts = [_with_refresh(world, now, family)[0] for _ in range(6)]
    redeemed = await asyncio.gather(*(stores.codes.redeem(code_id, now, rows) for rows in attempts))
    winners = [outcome for outcome in redeemed if outcome.access_token_id is not None]
    assert len(winners) == 1  # RFC 6749 section 4.1.2: a code is used once
    for rows, outcome in zip(attempts, redeemed, strict=True):
        found = await stores.tokens.find_access(rows.access.digest)
        assert (found is not None) == (outcome.access_token_id is not None)


async def _refresh_token(stores: Stores, world: World, now: float) -> tuple[int, str, bytes]:
    """A refresh token with its access token: the refresh token's id, its family, and the
    access token's digest."""
    family = secrets.new_family()
    rows, refresh_digest = _with_refresh(world, now, family)
    await stores.tokens.issue(rows)
    refresh = await stores.tokens.find_refresh(refresh_digest)
    assert refresh is not None
    return refresh.id, family, rows.access.digest


async def test_refresh_tokens_rotated_together_each_rotate(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    olds = [await _refresh_token(stores, world, now) for _ in range(10)]
    news = [_with_refresh(world, now + 1, family)[0] for _, family, _ in olds]
    rotated = await asyncio.gather(
        *(stores.tokens.rotate(refresh_id, now + 1, rows) for (refresh_id, _, _), rows in zip(olds, news, strict=True))
    )
    for (_, _, old_access), rows, outcome in zip(olds, news, rotated, strict=True):
        assert isinstance(outcome, Rotated)
        found = await stores.tokens.find_access(rows.access.digest)
        assert found is not None and found.id == outcome.access_token_id
        old = await stores.tokens.find_access(old_access)
        assert old is not None and old.revoked_at is not None  # RFC 9700 section 4.14.2: the old one ends


async def test_a_refresh_token_rotated_by_concurrent_requests_rotates_once(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    refresh_id, family, _ = await _refresh_token(stores, world, now)
    attempts = [_with_refresh(world, now + 1, family)[0] for _ in range(5)]
    rotated = await asyncio.gather(*(stores.tokens.rotate(refresh_id, now + 1, rows) for rows in attempts))
    assert sum(isinstance(outcome, Rotated) for outcome in rotated) == 1  # RFC 9700 section 4.14.2


async def test_on_postgresql_a_rotation_whose_family_is_locked_waits_for_it_alone(
    stores: Stores, world: World, clock: Clock, database: Database
) -> None:
    """A revocation of the family holds its lock: the grouped statement does not wait for
    it (the others of the turn rotate at once); that rotation is sent again alone, waits,
    and rotates once the lock is released."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's advisory locks; SQLite has one writer")
    import asyncpg

    from tessera.storage.postgres_connections import libpq_url

    now = clock()
    olds = [await _refresh_token(stores, world, now) for _ in range(4)]
    locked_family = olds[0][1]
    holder = await asyncpg.connect(libpq_url(database.engine.url.render_as_string(hide_password=False)))
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT pg_advisory_xact_lock(hashtext($1))", locked_family)
        news = [_with_refresh(world, now + 1, family)[0] for _, family, _ in olds]
        rotations = [
            asyncio.ensure_future(stores.tokens.rotate(refresh_id, now + 1, rows))
            for (refresh_id, _, _), rows in zip(olds, news, strict=True)
        ]
        done, _ = await asyncio.wait(rotations[1:], timeout=5)
        assert len(done) == 3 and not rotations[0].done()  # the others did not wait for the lock
        await transaction.rollback()
        assert isinstance(await asyncio.wait_for(rotations[0], 5), Rotated)
        assert all(isinstance(rotation.result(), Rotated) for rotation in rotations)
    finally:
        await holder.close()


async def test_lookups_made_together_each_find_their_own_row(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    rows = [_access(world.account.id, world.web.client.id, world.user.id, now) for _ in range(8)]
    ids = [await stores.tokens.issue(TokenRows(access=row, refresh=None)) for row in rows]
    unknown = secrets.digest(secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX))
    # Each digest asked for by two requests at once, and one that matches nothing.
    asked = [row.digest for row in rows] * 2 + [unknown]
    stores.tokens.forget()  # nothing remembered: every lookup reaches the database
    found = await asyncio.gather(*(stores.tokens.find_access(digest) for digest in asked))
    assert found[-1] is None
    for index, token in enumerate(found[:-1]):
        assert token is not None and token.id == ids[index % len(rows)]


async def test_on_postgresql_lookups_made_together_are_one_statement(database_url: str, world: World) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's grouped lookups; SQLite reads on the loop thread")
    from tessera.storage.postgres_loop import PostgresDatabase

    fresh = open_database(database_url)
    assert isinstance(fresh, PostgresDatabase)
    sent: list[int] = []
    read_rows = fresh._read_rows

    async def counted(sql: str, arrays: list[list[object]]) -> list[tuple[object, ...]]:
        sent.append(len(arrays[0]))
        return await read_rows(sql, arrays)

    fresh._read_rows = counted  # type: ignore[method-assign]
    try:
        stores = Stores.over(fresh)
        digests = [secrets.digest(secrets.new_secret("tsr_")) for _ in range(10)]
        assert await asyncio.gather(*(stores.tokens.find_refresh(digest) for digest in digests)) == [None] * 10
        assert sent == [10]  # ten lookups, one statement
    finally:
        await fresh.aclose()
