"""The account's registered parties in process memory: clients, resources and users, and
the consents users gave clients (the ClientStore, ResourceStore, UserStore and ConsentStore
ports). Apart from the stores that issue and redeem: these only look up what a test added,
or remember a consent, and none writes into another.
"""

from __future__ import annotations

import dataclasses
import itertools

from tessera.model import Client, Consent, Resource, User
from tessera.protocol import redirect_uri


class MemoryClientStore:
    def __init__(self) -> None:
        self._clients: dict[int, Client] = {}

    def add(self, client: Client) -> Client:
        self._clients[client.id] = client
        return client

    async def find(self, account_id: int, identifier: str) -> Client | None:
        usable = [
            c for c in self._clients.values() if c.identifier == identifier and c.account_id in (account_id, None)
        ]
        # An account's own client wins over a global one with the same identifier.
        usable.sort(key=lambda c: c.account_id is None)
        return usable[0] if usable else None

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        client = self._clients.get(numeric_id)
        return client if client is not None and client.account_id in (account_id, None) else None

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return any(
            redirect_uri.matches(uri, registered)
            for c in self._clients.values()
            if c.account_id in (account_id, None) and not c.is_self_registered
            for registered in c.redirect_uris
        )


class MemoryResourceStore:
    def __init__(self) -> None:
        self._resources: dict[tuple[int, str], Resource] = {}

    def add(self, resource: Resource) -> Resource:
        self._resources[(resource.account_id, resource.uri)] = resource
        return resource

    async def find(self, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
        found = (self._resources.get((account_id, uri)) for uri in uris)
        return {r.uri: r for r in found if r is not None}


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[int, User] = {}

    def add(self, user: User) -> User:
        self._users[user.id] = user
        return user

    async def get(self, account_id: int, user_id: int) -> User | None:
        user = self._users.get(user_id)
        return user if user is not None and user.account_id == account_id else None

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        wanted = email.strip().lower()
        found = (u for u in self._users.values() if u.account_id == account_id and u.email.lower() == wanted)
        return next(found, None)


class MemoryConsentStore:
    def __init__(self) -> None:
        self._consents: dict[tuple[int, int], Consent] = {}
        self._ids = itertools.count(1)

    async def find(self, user_id: int, client_id: int) -> Consent | None:
        return self._consents.get((user_id, client_id))

    async def remember(
        self, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
    ) -> Consent:
        old = self._consents.get((user_id, client_id))
        if old is None:
            consent = Consent(next(self._ids), account_id, user_id, client_id, scopes, now, now)
        else:
            union = old.scopes + tuple(s for s in scopes if s not in old.scopes)
            consent = dataclasses.replace(old, scopes=union, updated_at=now)
        self._consents[(user_id, client_id)] = consent
        return consent
