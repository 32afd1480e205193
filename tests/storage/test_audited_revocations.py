"""The TokenStore's audited revocations (protocol/ports.py; INTERFACE.md section 6: entries
"in the same transaction as the change", a token revoked recorded only when it was)."""

from __future__ import annotations

import pytest

from tessera import audit_vocabulary as events
from tessera.model import AuditEntry
from tessera.protocol import secrets
from tessera.protocol.ports import AlreadyUsed, Rotated
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import Clock, World
from tests.support import token_rows as _rows

pytestmark = pytest.mark.anyio


def _entry(world: World, action: str, now: float) -> AuditEntry:
    return events.entry(world.account.id, events.SYSTEM_ACTOR, action, events.OAUTH_TOKEN, None, "Web App", action, now)


async def _actions(stores: Stores, world: World) -> list[str]:
    # Only the token entries: setting up the world records the users and clients it made.
    where = AuditFilter(source_type=events.OAUTH_TOKEN)
    return [log.entry.action for log in await stores.audit.newest_first(world.account.id, where)]


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


async def test_rotate_reports_a_reuse_and_records_nothing_itself(stores: Stores, world: World, clock: Clock) -> None:
    """The refresh grant decides what a reuse means and records REFRESH_REUSE with its
    revocation of the family (tests/http/test_audit_events.py); the store only reports."""
    now = clock()
    family = secrets.new_family()
    first = _rows(world, now, family=family)
    await stores.tokens.issue(first)
    assert first.refresh is not None
    refresh = await stores.tokens.find_refresh(first.refresh.digest)
    assert refresh is not None
    assert isinstance(await stores.tokens.rotate(refresh.id, now, _rows(world, now, family=family)), Rotated)
    again = await stores.tokens.rotate(refresh.id, now + 11, _rows(world, now + 11, family=family))
    assert again == AlreadyUsed(used_at=now, family=family)
    assert await _actions(stores, world) == []
