"""The TokenStore's audited revocations (protocol/ports.py; INTERFACE.md section 6: entries
"in the same transaction as the change", a token revoked recorded only when it was)."""

from __future__ import annotations

import pytest

from tessera import audit_vocabulary as events
from tessera.model import AuditEntry
from tessera.protocol import secrets
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.storage.test_contract import _rows
from tests.support import Clock, World

pytestmark = pytest.mark.anyio


def _entry(world: World, action: str, now: float) -> AuditEntry:
    return events.entry(world.account.id, events.SYSTEM_ACTOR, action, events.OAUTH_TOKEN, None, "Web App", action, now)


async def _actions(stores: Stores, world: World) -> list[str]:
    return [log.entry.action for log in await stores.audit.newest_first(world.account.id, AuditFilter())]


async def test_revoke_family_records_its_entry_only_when_it_revoked(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    family = secrets.new_family()
    await stores.tokens.issue(_rows(world, now, family=family))
    assert await stores.tokens.revoke_family(family, now, _entry(world, events.CODE_REPLAY, now)) == 2
    assert await stores.tokens.revoke_family(family, now, _entry(world, events.CODE_REPLAY, now)) == 0
    assert await _actions(stores, world) == [events.CODE_REPLAY]


async def test_revoke_access_records_its_entry_only_when_it_revoked(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    access_id = await stores.tokens.issue(_rows(world, now, family=secrets.new_family()))
    assert await stores.tokens.revoke_access(access_id, now, _entry(world, events.REVOKE, now)) == 1
    assert await stores.tokens.revoke_access(access_id, now, _entry(world, events.REVOKE, now)) == 0
    assert await _actions(stores, world) == [events.REVOKE]


async def test_rotate_records_reuse_only_when_it_revokes_the_family(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    family = secrets.new_family()
    first = _rows(world, now, family=family)
    await stores.tokens.issue(first)
    assert first.refresh is not None
    refresh = await stores.tokens.find_refresh(first.refresh.digest)
    assert refresh is not None
    reuse = _entry(world, events.REFRESH_REUSE, now)
    assert (await stores.tokens.rotate(refresh.id, now, 10, _rows(world, now, family=family), reuse)).access_token_id
    inside = await stores.tokens.rotate(refresh.id, now + 10, 10, _rows(world, now + 10, family=family), reuse)
    assert not inside.family_revoked
    assert await _actions(stores, world) == []
    late = await stores.tokens.rotate(refresh.id, now + 11, 10, _rows(world, now + 11, family=family), reuse)
    assert late.family_revoked
    assert await _actions(stores, world) == [events.REFRESH_REUSE]
