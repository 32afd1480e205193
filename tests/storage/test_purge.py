"""Housekeeping, tessera/storage/purge.py, on SQLite and PostgreSQL.

What goes: tokens, codes, device authorizations and sessions expired or revoked more than RETENTION seconds ago,
and closed login-failure windows. What stays: live rows, rows dead for less than
RETENTION, and a used refresh token that has not expired (presented again, it is the
evidence of theft that revokes its family: RFC 9700 section 4.14.2).

The rows here are dated around T0, long before any other test's rows, and every purge
runs at T0: rows other tests leave in the shared database are neither dead at T0 nor
counted, so the counts are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tessera.backoff import Rule
from tessera.protocol import secrets
from tessera.protocol.ports import (
    AlreadyUsed,
    NewAccessToken,
    NewDeviceCode,
    NewRefreshToken,
    Rotated,
    TokenRows,
)
from tessera.storage import purge, schema
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tests.support import World, new_code

pytestmark = pytest.mark.anyio

T0 = 1_500_000_000.0
HOUR = 3600
WINDOW = 900
RETENTION = purge.RETENTION


def test_retention_is_an_hour() -> None:
    assert purge.RETENTION == 3600


def _rows(world: World, created_at: float, expires_at: float | None, *, refresh_expires_at: float | None) -> TokenRows:
    token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    access = NewAccessToken(
        digest=secrets.digest(token),
        token_prefix=token[:10],
        account_id=world.account.id,
        client_id=world.web.client.id,
        user_id=world.user.id,
        scopes=("read",),
        family=secrets.new_family(),
        created_at=created_at,
        expires_at=expires_at,
    )
    refresh = None
    if refresh_expires_at is not None:
        refresh = NewRefreshToken(secrets.digest(secrets.new_secret(secrets.REFRESH_TOKEN_PREFIX)), refresh_expires_at)
    return TokenRows(access=access, refresh=refresh)


async def _issue(
    stores: Stores,
    world: World,
    *,
    created_at: float = T0 - 10 * HOUR,
    expires_at: float | None,
    refresh_expires_at: float | None = None,
) -> TokenRows:
    rows = _rows(world, created_at, expires_at, refresh_expires_at=refresh_expires_at)
    await stores.tokens.issue(rows)
    return rows


async def _code(stores: Stores, world: World, expires_at: float) -> bytes:
    ids = (world.account.id, world.web.client.id, world.user.id)
    code = new_code(*ids, expires_at - 300, expires_at, family=secrets.new_family())
    await stores.codes.create(code)
    return code.digest


async def _device_code(stores: Stores, world: World, expires_at: float) -> bytes:
    digest = secrets.digest(secrets.new_secret(secrets.DEVICE_CODE_PREFIX))
    await stores.device_codes.create(
        NewDeviceCode(
            digest=digest,
            user_code=secrets.new_user_code(),
            account_id=world.account.id,
            client_id=world.web.client.id,
            scopes=("read",),
            created_at=expires_at - 600,
            expires_at=expires_at,
            interval=5,
        )
    )
    return digest


async def _session(stores: Stores, world: World, expires_at: float) -> bytes:
    digest = secrets.digest(secrets.new_secret(""))
    await stores.sessions.start(None, digest, world.account.id, world.user.id, expires_at - 86400, expires_at)
    return digest


async def _exists(db: Database, table: sa.Table, digest: bytes) -> bool:
    def query(conn: sa.Connection) -> bool:
        return conn.execute(sa.select(table.c.id).where(table.c.digest == digest)).first() is not None

    return await db.read(query)


async def _access_exists(stores: Stores, rows: TokenRows) -> bool:
    return await _exists(stores.db, schema.access_tokens, rows.access.digest)


async def _refresh_exists(stores: Stores, rows: TokenRows) -> bool:
    assert rows.refresh is not None
    return await _exists(stores.db, schema.refresh_tokens, rows.refresh.digest)


async def _throttle_keys(db: Database, world: World) -> set[str]:
    def query(conn: sa.Connection) -> set[str]:
        table = schema.throttles
        mine = table.c.key.startswith(f"{world.account.id}:")
        return {row.key.split(":", 1)[1] for row in conn.execute(sa.select(table.c.key).where(mine))}

    return await db.read(query)


class CountingDatabase:
    """Forwards to a Database and records what each write returned (rows deleted per batch)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.dialect = db.dialect
        self.results: list[Any] = []

    async def read(self, fn: Any, *args: Any) -> Any:
        return await self.db.read(fn, *args)

    async def write(self, fn: Any, *args: Any) -> Any:
        result = await self.db.write(fn, *args)
        self.results.append(result)
        return result

    def close(self) -> None:
        pass


# --- Access tokens ---------------------------------------------------------------------------


async def test_access_tokens_expired_more_than_the_retention_ago_go(stores: Stores, world: World) -> None:
    long_expired = await _issue(stores, world, expires_at=T0 - RETENTION - 1)
    recently_expired = await _issue(stores, world, expires_at=T0 - RETENTION + 60)
    live = await _issue(stores, world, expires_at=T0 + 1800)
    never_expiring = await _issue(stores, world, expires_at=None)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["access_tokens"] == 1
    assert not await _access_exists(stores, long_expired)
    assert await _access_exists(stores, recently_expired)  # still says "expired N seconds ago"
    assert await _access_exists(stores, live)
    assert await _access_exists(stores, never_expiring)


async def test_access_tokens_revoked_more_than_the_retention_ago_go(stores: Stores, world: World) -> None:
    long_revoked = await _issue(stores, world, expires_at=T0 + 1800)
    recently_revoked = await _issue(stores, world, expires_at=T0 + 1800)
    never_expiring_revoked = await _issue(stores, world, expires_at=None)
    access_id = (await stores.tokens.find_access(long_revoked.access.digest)).id  # type: ignore[union-attr]
    await stores.tokens.revoke_access(access_id, T0 - RETENTION - 1)
    recent_id = (await stores.tokens.find_access(recently_revoked.access.digest)).id  # type: ignore[union-attr]
    await stores.tokens.revoke_access(recent_id, T0 - 60)
    legacy_id = (await stores.tokens.find_access(never_expiring_revoked.access.digest)).id  # type: ignore[union-attr]
    await stores.tokens.revoke_access(legacy_id, T0 - 2 * RETENTION)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["access_tokens"] == 2
    assert not await _access_exists(stores, long_revoked)
    assert not await _access_exists(stores, never_expiring_revoked)
    assert await _access_exists(stores, recently_revoked)


# --- Refresh tokens --------------------------------------------------------------------------


async def test_refresh_tokens_expired_or_revoked_long_ago_go_and_live_ones_stay(stores: Stores, world: World) -> None:
    expired = await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 - RETENTION - 1)
    revoked = await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 + 30 * 86400)
    await stores.tokens.revoke_family(revoked.access.family, T0 - 2 * RETENTION)
    recently_revoked = await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 + 30 * 86400)
    await stores.tokens.revoke_family(recently_revoked.access.family, T0 - 60)
    # The access token expired long ago, but its refresh token is alive: the refresh stays.
    live = await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 + 30 * 86400)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["refresh_tokens"] == 2
    assert not await _refresh_exists(stores, expired)
    assert not await _refresh_exists(stores, revoked)
    assert await _refresh_exists(stores, recently_revoked)
    assert await _refresh_exists(stores, live)
    refresh = live.refresh
    assert refresh is not None
    found = await stores.tokens.find_refresh(refresh.digest)
    assert found is not None and found.revoked_at is None and found.used_at is None


async def test_a_used_but_unexpired_refresh_token_stays_as_evidence_of_theft(stores: Stores, world: World) -> None:
    """RFC 9700 section 4.14.2: a used refresh token presented again revokes its family; purging
    it early would turn a theft into an unremarkable "unknown token"."""
    original = await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 + 30 * 86400)
    assert original.refresh is not None
    used = await stores.tokens.find_refresh(original.refresh.digest)
    assert used is not None
    drawn = _rows(world, T0 - 10 * HOUR, T0 - 9 * HOUR, refresh_expires_at=T0 + 30 * 86400)
    successor = TokenRows(access=_fields(drawn.access, family=original.access.family), refresh=drawn.refresh)
    rotation = await stores.tokens.rotate(used.id, T0 - 10 * HOUR, successor)
    assert isinstance(rotation, Rotated)

    purged = await purge.purge(stores.db, T0, pause=0)

    still = await stores.tokens.find_refresh(original.refresh.digest)
    assert still is not None
    assert still.used_at == T0 - 10 * HOUR
    assert purged.counts["refresh_tokens"] == 0
    # The access token it replaced was revoked by the rotation ten hours ago, so it went.
    assert not await _access_exists(stores, original)
    assert purged.counts["access_tokens"] == 2  # the replaced one and the expired successor
    # Presented again now, the kept row still reports its use and family, which is what the
    # refresh_token grant needs to revoke the family as theft.
    replay = await stores.tokens.rotate(used.id, T0, _rows(world, T0, T0 + 1800, refresh_expires_at=T0 + 86400))
    assert isinstance(replay, AlreadyUsed)
    assert replay == AlreadyUsed(used_at=T0 - 10 * HOUR, family=original.access.family)
    await stores.tokens.revoke_family(replay.family, T0)
    assert successor.refresh is not None
    after = await stores.tokens.find_refresh(successor.refresh.digest)
    assert after is not None and after.revoked_at == T0


def _fields(access: NewAccessToken, **changes: Any) -> NewAccessToken:
    values = {name: getattr(access, name) for name in NewAccessToken.__dataclass_fields__}
    values.update(changes)
    return NewAccessToken(**values)


# --- Codes, sessions, login failures -------------------------------------------------------------


async def test_codes_and_sessions_expired_long_ago_go(stores: Stores, world: World) -> None:
    old_code = await _code(stores, world, T0 - RETENTION - 1)
    recent_code = await _code(stores, world, T0 - 60)
    live_code = await _code(stores, world, T0 + 300)
    old_session = await _session(stores, world, T0 - RETENTION - 1)
    recent_session = await _session(stores, world, T0 - 60)
    live_session = await _session(stores, world, T0 + 86400)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["authorization_codes"] == 1
    assert purged.counts["sessions"] == 1
    codes, sessions = schema.authorization_codes, schema.sessions
    assert not await _exists(stores.db, codes, old_code)
    assert await _exists(stores.db, codes, recent_code)
    assert await _exists(stores.db, codes, live_code)
    assert not await _exists(stores.db, sessions, old_session)
    assert await _exists(stores.db, sessions, recent_session)
    assert await _exists(stores.db, sessions, live_session)


async def test_device_authorizations_expired_long_ago_go(stores: Stores, world: World) -> None:
    """RFC 8628 device codes live 600 s; kept RETENTION more to answer expired_token."""
    old = await _device_code(stores, world, T0 - RETENTION - 1)
    recent = await _device_code(stores, world, T0 - 60)
    live = await _device_code(stores, world, T0 + 600)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["device_codes"] == 1
    assert not await _exists(stores.db, schema.device_codes, old)
    assert await _exists(stores.db, schema.device_codes, recent)
    assert await _exists(stores.db, schema.device_codes, live)


async def test_throttle_counters_whose_run_is_over_go(stores: Stores, world: World) -> None:
    rule = Rule("sign_in_email", 10, WINDOW, 60)
    await stores.throttles.attempt([(rule, f"{world.account.id}:closed@example.com")], T0 - WINDOW - 1)
    await stores.throttles.attempt([(rule, f"{world.account.id}:open@example.com")], T0 - WINDOW + 60)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["throttles"] >= 1  # other tests' counters may go too
    assert await _throttle_keys(stores.db, world) == {"open@example.com"}


async def test_initial_access_tokens_expired_long_ago_go(stores: Stores, world: World) -> None:
    """Dynamic registration (RFC 7591 section 3): used or not, an expired token is history."""
    from tessera.management import audit_events, registration_tokens

    actor = audit_events.Actor(None, "Ada Admin")
    old = await registration_tokens.create(stores, world.account, actor, T0 - RETENTION - 61, 60)
    recent = await registration_tokens.create(stores, world.account, actor, T0 - 120, 60)
    live = await registration_tokens.create(stores, world.account, actor, T0, 3600)

    purged = await purge.purge(stores.db, T0, pause=0)

    assert purged.counts["registration_tokens"] == 1
    table = schema.registration_tokens
    assert not await _exists(stores.db, table, secrets.digest(old.full_token))
    assert await _exists(stores.db, table, secrets.digest(recent.full_token))
    assert await _exists(stores.db, table, secrets.digest(live.full_token))


# --- Batches and counts ----------------------------------------------------------------------------


async def test_purge_deletes_in_batches_and_reports_the_counts(stores: Stores, world: World) -> None:
    families = [
        await _issue(stores, world, expires_at=T0 - 20 * HOUR, refresh_expires_at=T0 + 30 * 86400) for _ in range(6)
    ]
    for rows in families:
        await stores.tokens.revoke_family(rows.access.family, T0 - 2 * RETENTION)
    loose = await _issue(stores, world, expires_at=T0 - 2 * RETENTION)
    codes = [await _code(stores, world, T0 - 2 * RETENTION) for _ in range(4)]
    live = await _issue(stores, world, expires_at=T0 + 1800, refresh_expires_at=T0 + 86400)
    counting = CountingDatabase(stores.db)

    purged = await purge.purge(counting, T0, batch=3, pause=0)  # type: ignore[arg-type]

    tables = ("refresh_tokens", "access_tokens", "authorization_codes", "sessions")
    assert {table: purged.counts[table] for table in tables} == {
        "refresh_tokens": 6,
        "access_tokens": 7,
        "authorization_codes": 4,
        "sessions": 0,
    }
    assert purged.total - purged.counts["throttles"] == 17
    deleted = [r for r in counting.results if isinstance(r, int)]
    assert max(deleted) == 3  # no statement deleted more than one batch
    assert sum(deleted) == 17
    assert len([d for d in deleted if d == 3]) == 2 + 2 + 1  # 6 refresh, 7 access, 4 codes in threes
    for rows in [*families, loose]:
        assert not await _access_exists(stores, rows)
    for digest in codes:
        assert not await _exists(stores.db, schema.authorization_codes, digest)
    assert await _access_exists(stores, live)
    assert await _refresh_exists(stores, live)


async def test_a_second_purge_finds_nothing_more(stores: Stores, world: World) -> None:
    await _issue(stores, world, expires_at=T0 - 2 * RETENTION, refresh_expires_at=T0 - 2 * RETENTION)
    first = await purge.purge(stores.db, T0, pause=0)
    assert first.counts["access_tokens"] == 1
    assert first.counts["refresh_tokens"] == 1
    second = await purge.purge(stores.db, T0, pause=0)
    assert second.total == 0


@pytest.mark.parametrize(
    "table",
    [schema.refresh_tokens, schema.access_tokens, schema.authorization_codes, schema.device_codes, schema.sessions],
)
async def test_each_purge_question_is_answered_by_an_index(database: Database, table: sa.Table) -> None:
    """With `expires_at <= h OR revoked_at <= h` SQLite read every row of the table (0.8 s
    at 10 million tokens, holding the writer); each question apart must use an index."""
    if database.dialect != "sqlite":
        pytest.skip("SQLite's query plan; PostgreSQL chooses by table statistics")
    with database.engine.connect() as conn:
        for condition in purge._dead(table, T0):
            doomed = sa.select(table.c.id).where(condition).limit(purge.BATCH)
            sql = str(doomed.compile(conn, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert plan.startswith(f"SEARCH {table.name} USING ") and " INDEX " in plan, plan
