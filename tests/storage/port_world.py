"""What the port-level contract tests run against: the SQL stores or the in-memory ones.

A test marked ON_EVERY_STORE runs three times: on SQLite, on PostgreSQL and on
tessera/storage/memory/. It sees only the ports of tessera/protocol/ports.py (through
`PortWorld`), so what it checks is the promise every implementation must keep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import pytest

from tessera.model import Client, Consent, User
from tessera.protocol.ports import (
    Authenticator,
    ClientStore,
    CodeStore,
    DeviceCodeStore,
    PushedRequestStore,
    TokenStore,
    UsedOnceStore,
    UserStore,
)

MEMORY = "memory"
# database_url's own parameters first, so pytest keeps one database per engine for both.
ON_EVERY_STORE = pytest.mark.parametrize("database_url", ["sqlite", "postgresql", MEMORY], indirect=True)

# The sign-in limit both authenticators are built with.
LOGIN_LIMIT = 3
LOGIN_WINDOW = 900


# What the SQL and in-memory stores also share beyond the protocol's ports (the web ring and
# sign-in use these): checked here all the same, so the memory stores stay faithful.
class ConsentContract(Protocol):
    async def find(self, user_id: int, client_id: int) -> Consent | None: ...

    async def remember(
        self, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
    ) -> Consent: ...


class UserContract(UserStore, Protocol):
    async def find_by_email(self, account_id: int, email: str) -> User | None: ...


class TokenContract(TokenStore, Protocol):
    async def touch(self, token_id: int, now: float) -> None: ...


@dataclass
class PortWorld:
    """One account, seen through the ports: an end user, an admin, a confidential client."""

    clients: ClientStore
    users: UserContract
    consents: ConsentContract
    codes: CodeStore
    device_codes: DeviceCodeStore
    used_once: UsedOnceStore
    pushed_requests: PushedRequestStore
    tokens: TokenContract
    authenticator: Authenticator
    account_id: int
    user: User
    admin: User
    client: Client
    password: str  # every user's
    # Register a client with this identifier on the account, or globally (account None).
    add_client: Callable[[bool, str], Awaitable[Client]]
