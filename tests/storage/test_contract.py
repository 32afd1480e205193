"""The storage contract of tessera/protocol/ports.py, on SQLite and PostgreSQL.

Each test states one promise an implementation must keep; the atomic ones (single-use
codes, family revocation, rotation) are also raced with concurrent calls.
"""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tessera.protocol import secrets
from tessera.protocol.ports import NewAccessToken, NewCode, NewRefreshToken, TokenRows
from tessera.storage import schema
from tessera.storage.database import Database
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores
from tests.support import Clock, World, add_client

pytestmark = pytest.mark.anyio


def _rows(world: World, now: float, *, family: str, refresh: bool = True) -> TokenRows:
    token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    access = NewAccessToken(
        digest=secrets.digest(token),
        token_prefix=token[:10],
        account_id=world.account.id,
        client_id=world.web.client.id,
        user_id=world.user.id,
        scopes=("read",),
        family=family,
        created_at=now,
        expires_at=now + 1800,
    )
    new_refresh = NewRefreshToken(secrets.digest(secrets.new_secret("tsr_")), now + 86400) if refresh else None
    return TokenRows(access=access, refresh=new_refresh)


async def _code(stores: Stores, world: World, now: float) -> tuple[int, str]:
    family = secrets.new_family()
    code_id = await stores.codes.create(
        NewCode(
            digest=secrets.digest(secrets.new_secret("tsc_")),
            account_id=world.account.id,
            client_id=world.web.client.id,
            user_id=world.user.id,
            redirect_uri="",
            scopes=("read",),
            code_challenge="",
            nonce="",
            family=family,
            auth_time=now,
            created_at=now,
            expires_at=now + 300,
        )
    )
    return code_id, family


def test_migrations_create_exactly_the_schema_the_code_queries(database: Database) -> None:
    """Alembic's baseline and tessera/storage/schema.py must not drift apart."""
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_sqlite_connections_are_durable_and_in_wal_mode(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("SQLite pragmas")
    with database.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
        assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1


async def test_a_code_is_redeemed_once_even_under_concurrency(stores: Stores, world: World, clock: Clock) -> None:
    """RFC 6749 section 4.1.2: single use; SqlCodeStore.redeem: exactly one of concurrent calls wins."""
    now = clock()
    code_id, family = await _code(stores, world, now)
    outcomes = await asyncio.gather(
        *(stores.codes.redeem(code_id, now, _rows(world, now, family=family)) for _ in range(8))
    )
    winners = [o for o in outcomes if not o.reused]
    assert len(winners) == 1
    # The losers wrote nothing: the winner's token stands (revoking on replay is the grant's).
    token = await stores.db.read(_access_by_id, winners[0].access_token_id)
    assert token.revoked_at is None


def _access_by_id(conn, token_id):  # type: ignore[no-untyped-def]
    return conn.execute(schema.access_tokens.select().where(schema.access_tokens.c.id == token_id)).one()


async def test_a_second_redemption_writes_nothing(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    code_id, family = await _code(stores, world, now)
    first = await stores.codes.redeem(code_id, now, _rows(world, now, family=family))
    assert not first.reused
    late = _rows(world, now + 5, family=family)
    again = await stores.codes.redeem(code_id, now + 5, late)
    assert again.reused
    assert await stores.tokens.find_access(late.access.digest) is None
    code = await stores.codes.find(await stores.db.read(_code_digest, code_id))
    assert code is not None and code.used_at == now


def _code_digest(conn, code_id):  # type: ignore[no-untyped-def]
    table = schema.authorization_codes
    return conn.execute(table.select().where(table.c.id == code_id)).one().digest


async def test_issue_writes_access_and_refresh_tokens_findable_by_digest(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    rows = _rows(world, now, family="f" * 32)
    access_id = await stores.tokens.issue(rows)
    access = await stores.tokens.find_access(rows.access.digest)
    assert access is not None and access.id == access_id and access.scopes == ("read",)
    assert rows.refresh is not None
    refresh = await stores.tokens.find_refresh(rows.refresh.digest)
    assert refresh is not None and refresh.access_token_id == access_id and refresh.family == "f" * 32


async def test_revoke_family_revokes_access_and_refresh_tokens(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    family = secrets.new_family()
    rows = [_rows(world, now, family=family) for _ in range(3)]
    for r in rows:
        await stores.tokens.issue(r)
    bystander = _rows(world, now, family=secrets.new_family())
    await stores.tokens.issue(bystander)
    await stores.tokens.revoke_family(family, now + 1)
    for r in rows:
        assert (await stores.tokens.find_access(r.access.digest)).revoked_at == now + 1  # type: ignore[union-attr]
        assert r.refresh is not None
        assert (await stores.tokens.find_refresh(r.refresh.digest)).revoked_at == now + 1  # type: ignore[union-attr]
    assert (await stores.tokens.find_access(bystander.access.digest)).revoked_at is None  # type: ignore[union-attr]


async def test_rotation_is_single_use_with_a_grace_window(stores: Stores, world: World, clock: Clock) -> None:
    """SqlTokenStore.rotate: one winner; a repeat within grace writes nothing; after it, the family dies."""
    now = clock()
    family = secrets.new_family()
    first = _rows(world, now, family=family)
    await stores.tokens.issue(first)
    assert first.refresh is not None
    refresh = await stores.tokens.find_refresh(first.refresh.digest)
    assert refresh is not None
    results = await asyncio.gather(
        *(stores.tokens.rotate(refresh.id, now, 10, _rows(world, now, family=family)) for _ in range(6))
    )
    winners = [r for r in results if r.access_token_id is not None]
    assert len(winners) == 1
    assert all(r.used_at == now and not r.family_revoked for r in results if r.access_token_id is None)
    # The access token the refresh token came with is revoked by the rotation.
    assert (await stores.tokens.find_access(first.access.digest)).revoked_at == now  # type: ignore[union-attr]
    # Within the window (inclusive) nothing is revoked...
    inside = await stores.tokens.rotate(refresh.id, now + 10, 10, _rows(world, now + 10, family=family))
    assert inside.access_token_id is None and not inside.family_revoked
    assert (await stores.db.read(_access_by_id, winners[0].access_token_id)).revoked_at is None
    # ...after it, the whole family is.
    late = await stores.tokens.rotate(refresh.id, now + 11, 10, _rows(world, now + 11, family=family))
    assert late.family_revoked
    assert (await stores.db.read(_access_by_id, winners[0].access_token_id)).revoked_at == now + 11


async def test_sessions_expire_and_are_replaced_at_sign_in(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    old, new = secrets.digest("old-cookie" + secrets.new_family()), secrets.digest("new-cookie" + secrets.new_family())
    await stores.sessions.start(None, old, world.account.id, world.user.id, now, now + 60)
    assert (await stores.sessions.find(old, now)) is not None
    assert (await stores.sessions.find(old, now + 60)) is None  # expired at expires_at
    await stores.sessions.start(old, new, world.account.id, world.admin.id, now, now + 60)
    assert (await stores.sessions.find(old, now)) is None  # the replaced session is gone
    found = await stores.sessions.find(new, now)
    assert found is not None and found.user_id == world.admin.id
    await stores.sessions.end(new)
    assert (await stores.sessions.find(new, now)) is None


async def test_login_failures_count_per_account_and_email_within_a_window(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    email = "someone@example.com"
    counts = [await stores.login_failures.record(world.account.id, email, now + i, 900) for i in range(3)]
    assert counts == [1, 2, 3]
    assert await stores.login_failures.blocked_for(world.account.id, email, now + 3, 3, 900) == 898
    assert await stores.login_failures.blocked_for(world.account.id, email, now + 3, 4, 900) is None
    assert await stores.login_failures.blocked_for(world.account.id, "other@example.com", now, 3, 900) is None
    # A failure after the window starts a new one.
    assert await stores.login_failures.record(world.account.id, email, now + 900, 900) == 1
    await stores.login_failures.clear(world.account.id, email)
    assert await stores.login_failures.record(world.account.id, email, now + 901, 900) == 1


async def test_concurrent_failures_are_all_counted(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    await asyncio.gather(
        *(stores.login_failures.record(world.account.id, "race@example.com", now, 900) for _ in range(10))
    )
    assert await stores.login_failures.record(world.account.id, "race@example.com", now, 900) == 11


async def test_client_lookup_prefers_own_then_global_and_is_account_scoped(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    global_client = await add_client(
        stores, None, now, identifier=f"g-{world.subdomain}", redirect_uris=("https://g.example.com/cb",)
    )
    assert (await stores.clients.find(world.account.id, global_client.client_id)).id == global_client.client.id  # type: ignore[union-attr]
    # Another account's client is invisible here, by identifier and by numeric id.
    other = await add_client(
        stores, world.account, now, identifier=f"own-{world.subdomain}", redirect_uris=("https://o.example.com/cb",)
    )
    assert await stores.clients.find(world.account.id + 100000, other.client_id) is None
    assert await stores.clients.find_by_numeric_id(world.account.id + 100000, other.client.id) is None
    assert (await stores.clients.find_by_numeric_id(world.account.id, global_client.client.id)) is not None


async def test_client_identifiers_cannot_collide_with_global_ones(stores: Stores, world: World, clock: Clock) -> None:
    from tessera.storage import clients as client_rows

    now = clock()
    global_client = await add_client(
        stores, None, now, identifier=f"shared-{world.subdomain}", redirect_uris=("https://g.example.com/cb",)
    )
    spec = client_rows.NewClient(
        account_id=world.account.id,
        identifier=global_client.client_id,
        name="x",
        description="",
        company="",
        logo_url="",
        redirect_uris=(),
        kind="confidential",
        grant_types=("client_credentials",),
        allowed_scopes=(),
        access_token_lifetime=1800,
        refresh_token_lifetime=2592000,
        access_token_format="opaque",
        introspection=False,
        user_id=world.admin.id,
        secret_hash=None,
        secret_prefix="",
    )
    with pytest.raises(Duplicate):
        await stores.clients.create(spec, now)


async def test_user_emails_are_unique_per_account_regardless_of_case(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    with pytest.raises(Duplicate):
        await stores.users.create(world.account.id, "USER@Example.com", "Dup", "end-user", "x", now)
    found = await stores.users.find_by_email(world.account.id, " User@EXAMPLE.com ")
    assert found is not None and found.id == world.user.id


async def test_consents_remember_the_union_of_scopes(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    await stores.consents.remember(world.account.id, world.user.id, world.web.client.id, ("read",), now)
    grant = await stores.consents.remember(
        world.account.id, world.user.id, world.web.client.id, ("tickets:write", "read"), now + 1
    )
    assert grant.scopes == ("read", "tickets:write")
    assert grant.updated_at == now + 1


async def test_a_failing_write_does_not_disturb_the_writes_batched_with_it(
    stores: Stores, world: World, clock: Clock
) -> None:
    """The SQLite writer runs each job in its own savepoint; PostgreSQL runs each in its own transaction."""
    now = clock()

    def half_then_fail(conn):  # type: ignore[no-untyped-def]
        conn.execute(schema.accounts.insert().values(subdomain=f"half-{world.subdomain}", name="half", created_at=now))
        raise RuntimeError("boom")

    good = [stores.accounts.create(f"ok{i}-{world.subdomain}", "ok", now) for i in range(5)]
    results = await asyncio.gather(stores.db.write(half_then_fail), *good, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert all(not isinstance(r, Exception) for r in results[1:])
    assert await stores.accounts.by_subdomain(f"half-{world.subdomain}") is None
    for i in range(5):
        assert await stores.accounts.by_subdomain(f"ok{i}-{world.subdomain}") is not None
