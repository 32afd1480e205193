"""What the port-level contract tests run against: the SQL stores or the in-memory ones.

A test marked ON_EVERY_STORE runs three times: on SQLite, on PostgreSQL and on
tessera/storage/memory.py. It sees only the ports of tessera/protocol/ports.py (through
`PortWorld`), so what it checks is the promise every implementation must keep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from tessera.model import Client, User
from tessera.protocol.ports import Authenticator, ClientStore, CodeStore, ConsentStore, TokenStore, UserStore

MEMORY = "memory"
# database_url's own parameters first, so pytest keeps one database per engine for both.
ON_EVERY_STORE = pytest.mark.parametrize("database_url", ["sqlite", "postgresql", MEMORY], indirect=True)

# The sign-in limit both authenticators are built with.
LOGIN_LIMIT = 3
LOGIN_WINDOW = 900


@dataclass
class PortWorld:
    """One account, seen through the ports: an end user, an admin, a confidential client."""

    clients: ClientStore
    users: UserStore
    consents: ConsentStore
    codes: CodeStore
    tokens: TokenStore
    authenticator: Authenticator
    account_id: int
    user: User
    admin: User
    client: Client
    password: str  # every user's
    # Register a client with this identifier on the account, or globally (account None).
    add_client: Callable[[bool, str], Awaitable[Client]]
