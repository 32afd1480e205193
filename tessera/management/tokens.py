"""Tokens created by hand (CLI, Tokens API): as if the user had authorized the client."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.management.errors import ManagementError
from tessera.model import AccessToken, Account, Client, User
from tessera.protocol import issuance, lifetimes, secrets
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import OAuthError
from tessera.protocol.ports import KeyRing
from tessera.storage.stores import Stores


@dataclass(frozen=True)
class CreatedToken:
    token: AccessToken
    full_token: str
    refresh_token: str | None


async def create(
    stores: Stores,
    account: Account,
    client: Client,
    user: User,
    scopes: str,
    now: float,
    *,
    keys: KeyRing,
    issuer: str,
    lifetime_params: dict[str, str] | None = None,
) -> CreatedToken:
    try:
        granted = scope_rules.resolve(scopes, client.allowed_scopes)
        wanted = lifetimes.requested(lifetime_params or {}, client)
    except OAuthError as problem:
        raise ManagementError(problem.description) from None
    minted = issuance.mint(
        account_id=account.id,
        client=client,
        user_id=user.id,
        scopes=granted,
        family=secrets.new_family(),
        lifetimes=wanted,
        now=now,
        with_refresh=issuance.wants_refresh_token(client, granted),
        jwt_key=await issuance.jwt_key_for(client, account.id, issuer, keys),
    )
    await stores.tokens.issue(minted.rows)
    token = await stores.tokens.find_access(minted.rows.access.digest)
    assert token is not None
    return CreatedToken(token=token, full_token=minted.access_token, refresh_token=minted.refresh_token)


async def client_for(stores: Stores, account: Account, identifier: str) -> Client:
    client = await stores.clients.find(account.id, identifier)
    if client is None:
        raise ManagementError(f"no client with identifier {identifier!r} on account {account.subdomain!r}")
    return client
