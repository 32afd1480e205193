"""The audit log's storage (INTERFACE.md section 6): an entry is committed or undone with
the change it records, listed newest first with filters, and purged by age."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from tessera.management import audit_events as ev
from tessera.model import AuditEntry
from tessera.storage import audit
from tessera.storage.audit import AuditFilter
from tessera.storage.purge import purge
from tessera.storage.stores import Stores
from tests.support import World

pytestmark = pytest.mark.anyio


def _entry(world: World, action: str, now: float, actor_id: int | None = None) -> AuditEntry:
    actor = ev.Actor(actor_id, "Someone", "203.0.113.9")
    return ev.entry(world.account.id, actor, action, ev.SIGNING_KEY, 7, "My app", f"{action} it", now)


# Setting up the world (users, clients) writes entries of its own; these tests read theirs.
MINE = AuditFilter(source_type=ev.SIGNING_KEY)


async def test_an_entry_is_written_with_its_change(stores: Stores, world: World) -> None:
    def change(conn: Connection) -> int:
        return 7

    wrapped = audit.audited(change, lambda result: [_entry(world, ev.CREATE, 1000.0 + result)])
    assert await stores.db.write(wrapped) == 7
    logs = await stores.audit.newest_first(world.account.id, MINE)
    assert [(log.entry.action, log.entry.created_at, log.entry.ip_address) for log in logs] == [
        ("create", 1007.0, "203.0.113.9")
    ]


async def test_an_entry_is_undone_with_a_failed_change(stores: Stores, world: World) -> None:
    def failing(conn: Connection) -> None:
        audit.insert(conn, [_entry(world, ev.UPDATE, 1.0)])
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await stores.db.write(failing)
    assert await stores.audit.newest_first(world.account.id, MINE) == []


async def test_newest_first_with_filters_and_cursor(stores: Stores, world: World) -> None:
    for i, action in enumerate((ev.CREATE, ev.UPDATE, ev.DESTROY, ev.UPDATE)):
        await stores.audit.record(_entry(world, action, 100.0 + i, actor_id=world.admin.id if i % 2 else None))
    everything = await stores.audit.newest_first(world.account.id, MINE)
    assert [log.entry.created_at for log in everything] == [103.0, 102.0, 101.0, 100.0]
    updates = await stores.audit.newest_first(
        world.account.id, AuditFilter(action=ev.UPDATE, source_type=ev.SIGNING_KEY)
    )
    assert [log.entry.created_at for log in updates] == [103.0, 101.0]
    by_admin = await stores.audit.newest_first(
        world.account.id, AuditFilter(actor_id=world.admin.id, source_type=ev.SIGNING_KEY)
    )
    assert [log.entry.created_at for log in by_admin] == [103.0, 101.0]
    window = await stores.audit.newest_first(
        world.account.id, AuditFilter(created_from=101.0, created_to=102.0, source_type=ev.SIGNING_KEY)
    )
    assert [log.entry.created_at for log in window] == [102.0, 101.0]
    older = await stores.audit.newest_first(world.account.id, MINE, before_id=everything[1].id, limit=1)
    assert [log.entry.created_at for log in older] == [101.0]


async def test_the_purge_removes_entries_older_than_the_retention(stores: Stores, world: World) -> None:
    now = 10_000_000.0
    await stores.audit.record(_entry(world, ev.CREATE, now - 400 * 86400), _entry(world, ev.UPDATE, now - 10))
    purged = await purge(stores.db, now, audit_retention=365 * 86400, pause=0)
    assert purged.counts["audit_logs"] >= 1
    left = await stores.audit.newest_first(world.account.id, MINE)
    assert [log.entry.action for log in left] == ["update"]
