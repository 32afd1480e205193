"""The access-token memo (tessera/storage/tokens.py), on SQLite and PostgreSQL.

Issue 4's rule for any cache on the token path: a revoked token must be refused within one
second on every node. This node: at once, since every write that can change a token
empties the memo before it returns. Another node (here: a second Stores over the same
database, which is what another Tessera process is): within LIVE_TOKEN_TTL.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest

from tessera.model import AccessToken
from tessera.protocol import secrets
from tessera.protocol.ports import NewAccessToken, NewRefreshToken, Rotated, TokenRows
from tessera.storage.database import Database
from tessera.storage.grouped import Grouped
from tessera.storage.stores import Stores
from tessera.storage.tokens import LIVE_TOKEN_TTL, SqlTokenStore
from tests.support import Clock, World

pytestmark = pytest.mark.anyio

T = TypeVar("T")


def _rows(world: World, now: float, family: str | None = None) -> tuple[TokenRows, bytes, bytes]:
    """A live access token with its refresh token, and their digests."""
    access, refresh = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX), secrets.new_secret("tsr_")
    rows = TokenRows(
        access=NewAccessToken(
            digest=secrets.digest(access),
            token_prefix=access[:10],
            account_id=world.account.id,
            client_id=world.web.client.id,
            user_id=world.user.id,
            scopes=("read",),
            family=family or secrets.new_family(),
            created_at=now,
            expires_at=now + 1800,
        ),
        refresh=NewRefreshToken(secrets.digest(refresh), now + 86400),
    )
    return rows, secrets.digest(access), secrets.digest(refresh)


async def _issued(stores: Stores, world: World, now: float, family: str | None = None) -> tuple[bytes, bytes]:
    """Issue a live access token and its refresh token; their digests."""
    rows, access, refresh = _rows(world, now, family)
    await stores.tokens.issue(rows)
    return access, refresh


async def _found(stores: Stores, digest: bytes) -> AccessToken:
    token = await stores.tokens.find_access(digest)
    assert token is not None
    return token


async def test_another_node_s_revocation_is_seen_within_the_ttl(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    digest, _ = await _issued(stores, world, now)
    token = await _found(stores, digest)
    other_node = Stores.over(stores.db)
    await other_node.tokens.revoke_access(token.id, now + 1)

    # Remembered: this is the memo at work (the read is not repeated), within its bound.
    assert (await _found(stores, digest)).revoked_at is None
    await asyncio.sleep(LIVE_TOKEN_TTL + 0.05)
    assert (await _found(stores, digest)).revoked_at == now + 1
    assert LIVE_TOKEN_TTL <= 0.5  # leaves half of the one-second bound to the commit


async def test_this_node_s_revocations_are_seen_at_once(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    family = secrets.new_family()
    first, _ = await _issued(stores, world, now, family)
    second, _ = await _issued(stores, world, now)
    third, _ = await _issued(stores, world, now)

    await stores.tokens.revoke_access((await _found(stores, first)).id, now + 1)
    assert (await _found(stores, first)).revoked_at == now + 1

    await _found(stores, second)
    await stores.tokens.revoke_family((await _found(stores, second)).family, now + 2)
    assert (await _found(stores, second)).revoked_at == now + 2

    token = await _found(stores, third)
    await stores.consents.forget(token.user_id, token.client_id, now + 3)  # "authorized apps" Revoke
    assert (await _found(stores, third)).revoked_at == now + 3


async def test_rotation_revokes_the_remembered_access_token_at_once(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    access, refresh = await _issued(stores, world, now)
    assert (await _found(stores, access)).revoked_at is None
    presented = await stores.tokens.find_refresh(refresh)
    assert presented is not None
    rotation = await stores.tokens.rotate(presented.id, now + 1, _rows(world, now + 1)[0])
    assert isinstance(rotation, Rotated)
    assert (await _found(stores, access)).revoked_at == now + 1


async def test_a_recorded_use_is_not_hidden_by_the_memo(stores: Stores, world: World, clock: Clock) -> None:
    # If the memo kept the old used_at, every API call within the TTL would write it again.
    now = clock()
    digest, _ = await _issued(stores, world, now)
    token = await _found(stores, digest)
    assert token.used_at is None
    await stores.tokens.touch(token.id, now + 5)
    assert (await _found(stores, digest)).used_at == now + 5


async def test_a_read_overtaken_by_a_revocation_is_not_remembered(
    database: Database, stores: Stores, world: World, clock: Clock
) -> None:
    """A read waits for the database (on PostgreSQL, for its answer over the network): a
    revocation can commit (and empty the memo) while it is in flight, and its stale answer
    must not then enter the memo."""
    now = clock()
    digest, _ = await _issued(stores, world, now)
    overtaken = _RevokedDuringRead(database)
    tokens = SqlTokenStore(overtaken)  # type: ignore[arg-type]
    overtaken.store = tokens
    await tokens.find_access(digest)
    await tokens.find_access(digest)
    assert overtaken.reads == 2  # the first answer was not remembered


class _RevokedDuringRead:
    """A Database whose first read is overtaken by a revocation made through the store."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.store: SqlTokenStore | None = None
        self.reads = 0

    async def fetch_grouped(self, grouped: Grouped[T], params: dict[str, Any]) -> T:
        self.reads += 1
        result = await self.db.fetch_grouped(grouped, params)
        if self.reads == 1 and self.store is not None:
            self.store.forget()
        return result
