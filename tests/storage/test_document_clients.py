"""Clients described by metadata documents, saved in the account (storage/document_clients.py
save_document_client), on SQLite and PostgreSQL: created once, left alone while unchanged,
updated to the latest document, consents withdrawn when the redirect URIs change
(draft-ietf-oauth-client-id-metadata-document-00 sections 4.5 and 6.3)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tessera.model import AuditEntry
from tessera.storage.client_rows import NewClient
from tessera.storage.stores import Stores
from tests.support import Clock, World

pytestmark = pytest.mark.anyio

URL = "https://agent.example/client.json"


def _new(world: World, **changes: object) -> NewClient:
    new = NewClient(
        account_id=world.account.id,
        identifier=URL,
        name="Agent",
        description="",
        company="",
        logo_url="",
        redirect_uris=("http://127.0.0.1:3000/callback",),
        kind="public",
        grant_types=("authorization_code",),
        allowed_scopes=(),
        access_token_lifetime=1800,
        refresh_token_lifetime=2_592_000,
        access_token_format="opaque",
        introspection=False,
        user_id=None,
        secret_hash=None,
        secret_prefix="",
        registration="metadata_document",
    )
    return dataclasses.replace(new, **changes)  # type: ignore[arg-type]


class _Changes:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, result: object) -> tuple[AuditEntry, ...]:
        self.seen.append(result[1])  # type: ignore[index]
        return ()


async def test_created_once_then_unchanged_then_updated(stores: Stores, world: World, clock: Clock) -> None:
    changes = _Changes()
    first = await stores.clients.save_document_client(_new(world), clock(), changes)
    again = await stores.clients.save_document_client(_new(world), clock(), changes)
    renamed = await stores.clients.save_document_client(_new(world, name="Agent 2"), clock(), changes)
    assert changes.seen == ["created", "", "updated"]
    assert first.id == again.id == renamed.id
    assert (renamed.name, renamed.registration, renamed.kind) == ("Agent 2", "metadata_document", "public")
    assert await stores.clients.find(world.account.id, URL) == renamed


async def test_new_redirect_uris_withdraw_the_consents(stores: Stores, world: World, clock: Clock) -> None:
    client = await stores.clients.save_document_client(_new(world), clock(), _Changes())
    await stores.consents.remember(world.account.id, world.user.id, client.id, ("read",), clock())
    await stores.clients.save_document_client(_new(world, name="Renamed"), clock(), _Changes())
    assert await stores.consents.find(world.user.id, client.id) is not None  # a new name keeps them
    await stores.clients.save_document_client(
        _new(world, redirect_uris=("https://new.example/cb",)), clock(), _Changes()
    )
    assert await stores.consents.find(world.user.id, client.id) is None


async def test_a_client_made_otherwise_is_left_alone(stores: Stores, world: World, clock: Clock) -> None:
    changes = _Changes()
    admin_made = world.web.client
    same_identifier = _new(world, identifier=admin_made.identifier, name="Impostor")
    kept = await stores.clients.save_document_client(same_identifier, clock(), changes)
    assert changes.seen == [""]
    assert kept.name == admin_made.name and kept.registration == "admin"


async def test_concurrent_first_uses_make_one_client(stores: Stores, world: World, clock: Clock) -> None:
    saved = await asyncio.gather(
        *(stores.clients.save_document_client(_new(world), clock(), _Changes()) for _ in range(4))
    )
    assert len({client.id for client in saved}) == 1
    assert len([c for c in await stores.clients.list_for_account(world.account.id) if c.identifier == URL]) == 1
