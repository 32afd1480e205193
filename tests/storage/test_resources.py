"""Registered resources (RFC 8707, INTERFACE.md section 8) over the real stores, on both
engines: one URI once per account, looked up by exact URI and only within the account,
each change audited in its own transaction; and the audience a token row carries."""

from __future__ import annotations

import dataclasses

import pytest

from tessera.management import resources
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.errors import Invalid, NotFound
from tessera.protocol import secrets
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import Clock, World, make_world, token_rows

pytestmark = pytest.mark.anyio

MCP = "https://mcp.example.com/mcp"


async def test_a_resource_is_found_by_its_exact_uri_within_its_account(
    stores: Stores, world: World, clock: Clock
) -> None:
    spec = resources.ResourceSpec(uri=MCP, scopes=("tickets:read",))
    created = await resources.create(stores, world.account, world.origin, spec, clock())
    found = await stores.resources.find(world.account.id, (MCP, MCP + "/", "https://mcp.example.com/MCP"))
    assert found == {MCP: created}
    assert created.name == "mcp.example.com" and created.scopes == ("tickets:read",)
    other = await make_world(stores, clock)
    assert await stores.resources.find(other.account.id, (MCP,)) == {}
    with pytest.raises(NotFound):
        await resources.get(stores, other.account, created.id)


async def test_one_uri_once_per_account_and_audited(stores: Stores, world: World, clock: Clock) -> None:
    await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=MCP), clock())
    with pytest.raises(Invalid) as refused:
        await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=MCP), clock())
    assert "already a resource" in str(refused.value)
    other = await make_world(stores, clock)
    await resources.create(stores, other.account, other.origin, resources.ResourceSpec(uri=MCP), clock())
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(source_type="oauth_resource"))
    assert [log.entry.action for log in logs] == ["create"]


async def test_every_bad_field_is_named(stores: Stores, world: World, clock: Clock) -> None:
    spec = resources.ResourceSpec(uri="ftp://x.example.com/#f", name="n" * 300, scopes=("bogus",))
    with pytest.raises(Invalid) as refused:
        await resources.create(stores, world.account, world.origin, spec, clock())
    assert set(refused.value.fields) == {"uri", "name", "scopes"}


async def test_delete_is_audited_and_listing_pages(stores: Stores, world: World, clock: Clock) -> None:
    made = [
        await resources.create(
            stores, world.account, world.origin, resources.ResourceSpec(uri=f"https://r{i}.example.com/"), clock()
        )
        for i in range(3)
    ]
    first_page = await resources.list_for_account(stores, world.account, limit=2)
    assert first_page == made[:2]
    assert await resources.list_for_account(stores, world.account, after_id=made[1].id) == made[2:]
    await resources.delete(stores, world.account, made[0].id, SYSTEM_ACTOR, clock())
    with pytest.raises(NotFound):
        await resources.delete(stores, world.account, made[0].id, SYSTEM_ACTOR, clock())
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(action="destroy"))
    assert [log.entry.source_id for log in logs] == [made[0].id]


async def test_token_rows_carry_their_audience(stores: Stores, world: World, clock: Clock) -> None:
    """DESIGN.md "Audience is data": the access row its own; the refresh row the grant's."""
    rows = token_rows(world, clock(), family=secrets.new_family())
    assert rows.refresh is not None
    rows = dataclasses.replace(
        rows,
        access=dataclasses.replace(rows.access, audience=(MCP,)),
        refresh=dataclasses.replace(rows.refresh, audience=(MCP, "https://b.example/")),
    )
    await stores.tokens.issue(rows)
    access = await stores.tokens.find_access(rows.access.digest)
    assert access is not None and access.audience == (MCP,)
    refresh = await stores.tokens.find_refresh(rows.refresh.digest)
    assert refresh is not None and refresh.audience == (MCP, "https://b.example/")


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("https://x.example.com/\x00", ""),
        ("https://x.example.com/", "a\x00b"),
        ("https://x.example.com/\x7f", ""),
        ("https://x.example.com/" + "é" * 1900, ""),  # past a PostgreSQL index entry, were it stored
    ],
)
async def test_control_characters_are_refused_not_stored(
    stores: Stores, world: World, clock: Clock, uri: str, name: str
) -> None:
    """PostgreSQL refuses NUL in text: such input is a field error, never a server error."""
    with pytest.raises(Invalid):
        await resources.create(stores, world.account, world.origin, resources.ResourceSpec(uri=uri, name=name), clock())
