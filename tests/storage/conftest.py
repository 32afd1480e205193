"""The port-level contract fixture: the same account on the SQL stores or in memory; and an
empty database on each engine, for the migration tests."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.model import Client, User
from tessera.settings import Settings
from tessera.sign_in import PasswordAuthenticator
from tessera.storage.memory import MemoryStores
from tessera.storage.memory.sign_in import MemoryAuthenticator
from tessera.storage.stores import Stores
from tessera.throttling import Throttles
from tests.conftest import ENGINES, _postgres_database
from tests.storage.port_world import LOGIN_LIMIT, LOGIN_WINDOW, MEMORY, PortWorld
from tests.support import PASSWORD, Clock, add_client, make_world


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A database without Tessera's schema (an SQLite file not made yet), on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'tessera.db'}"
        return
    yield from _postgres_database(worker_id)


@pytest.fixture
async def port_world(database_url: str, request: pytest.FixtureRequest, clock: Clock) -> PortWorld:
    if database_url == MEMORY:
        return _memory_world(clock())
    stores: Stores = request.getfixturevalue("stores")
    world = await make_world(stores, clock)
    # The first wait past the limit is the whole window, as the memory authenticator's lock.
    settings = Settings(
        database_url=database_url,
        throttle_sign_in_per_email=LOGIN_LIMIT,
        throttle_window=LOGIN_WINDOW,
        throttle_backoff=LOGIN_WINDOW,
    )

    async def add(is_global: bool, identifier: str) -> Client:
        account = None if is_global else world.account
        added = await add_client(
            stores, account, clock(), identifier=identifier, redirect_uris=("https://g.example.com/cb",)
        )
        return added.client

    return PortWorld(
        clients=stores.clients,
        users=stores.users,
        consents=stores.consents,
        codes=stores.codes,
        device_codes=stores.device_codes,
        used_once=stores.used_once,
        pushed_requests=stores.pushed_requests,
        tokens=stores.tokens,
        authenticator=PasswordAuthenticator(stores.users, Throttles(stores.throttles, settings), stores.audit),
        account_id=world.account.id,
        user=world.user,
        admin=world.admin,
        client=world.web.client,
        password=PASSWORD,
        add_client=add,
    )


def _memory_world(now: float) -> PortWorld:
    stores = MemoryStores()
    stores.authenticator = MemoryAuthenticator(stores.users, limit=LOGIN_LIMIT, window=LOGIN_WINDOW)
    account_id = 1
    user = stores.users.add(User(1, account_id, "user@example.com", "Eve User", "end-user", "", now, now))
    admin = stores.users.add(User(2, account_id, "admin@example.com", "Ada Admin", "admin", "", now, now))
    for someone in (user, admin):
        stores.authenticator.set_password(someone, PASSWORD)
    web = Client(
        id=1, account_id=account_id, identifier="web", name="Web App", description="", company="",
        logo_url="", redirect_uris=("https://app.example.com/callback",), kind="confidential",
        grant_types=frozenset({"authorization_code", "refresh_token"}), allowed_scopes=(),
        access_token_lifetime=1800, refresh_token_lifetime=2_592_000, access_token_format="opaque",
        introspection=False, user_id=admin.id, secret_hash=None, secret_prefix="", created_at=now, updated_at=now,
    )  # fmt: skip
    stores.clients.add(web)

    numeric_ids = itertools.count(2)

    async def add(is_global: bool, identifier: str) -> Client:
        owner = None if is_global else account_id
        return stores.clients.add(
            dataclasses.replace(
                web,
                id=next(numeric_ids),
                account_id=owner,
                identifier=identifier,
                redirect_uris=("https://g.example.com/cb",),
            )
        )

    return PortWorld(
        clients=stores.clients,
        users=stores.users,
        consents=stores.consents,
        codes=stores.codes,
        device_codes=stores.device_codes,
        used_once=stores.used_once,
        pushed_requests=stores.pushed_requests,
        tokens=stores.tokens,
        authenticator=stores.authenticator,
        account_id=account_id,
        user=user,
        admin=admin,
        client=web,
        password=PASSWORD,
        add_client=add,
    )
