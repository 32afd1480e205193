"""Tokens created by hand (CLI, Tokens API): as if the user had authorized the client; and
which tokens a user may see and revoke (INTERFACE.md sections 4 and 6): users their own,
admins any token of the account, with the filters all=true, client_id and global_client_id."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.management import audit_events as ev
from tessera.management.errors import Forbidden, ManagementError, NotFound
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
    if user.is_suspended:
        # Its tokens would be refused at once (INTERFACE.md section 6): never issue one that fails later.
        raise ManagementError(f"the user {user.email} is suspended: unsuspend them first to create a token for them")
    if client.require_dpop:
        # RFC 9449 section 5.2 (dpop_bound_access_tokens): such a client gets tokens only
        # bound to a key it proves, which only the token endpoint can see.
        raise ManagementError(
            f"the client {client.identifier!r} requires DPoP: its tokens are issued only at the token endpoint, "
            "bound to the key of a DPoP proof (RFC 9449 section 5.2)"
        )
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


@dataclass(frozen=True)
class TokenQuery:
    """Which live tokens to list. Without `everyone` or `user_id` a caller sees their own;
    an admin naming a client (or a global client) sees every user's tokens of it."""

    everyone: bool = False
    client_id: int | None = None
    global_client_id: int | None = None
    user_id: int | None = None


def _user_filter(caller: User, query: TokenQuery) -> int | None:
    if query.everyone and not caller.is_admin:
        raise Forbidden("only admins may list all tokens of the account (all=true)")
    if query.user_id is not None and query.user_id != caller.id and not caller.is_admin:
        raise Forbidden("only admins may list another user's tokens")
    if query.user_id is not None:
        return query.user_id
    names_client = query.client_id is not None or query.global_client_id is not None
    if query.everyone or (caller.is_admin and names_client):
        return None
    return caller.id


async def list_visible(
    stores: Stores,
    account: Account,
    caller: User,
    query: TokenQuery,
    now: float,
    *,
    after_id: int = 0,
    limit: int = 100,
) -> list[AccessToken]:
    """Live tokens the caller may see, oldest first, after a cursor (Forbidden for a
    non-admin asking for everyone's or another user's)."""
    user_id = _user_filter(caller, query)
    client_id = query.client_id
    if query.global_client_id is not None:
        client = await stores.clients.find_by_numeric_id(account.id, query.global_client_id)
        if client is None or not client.is_global or client_id not in (None, client.id):
            return []
        client_id = client.id
    return await stores.tokens.list_live(
        account.id, now, user_id=user_id, client_id=client_id, after_id=after_id, limit=limit
    )


async def visible(stores: Stores, account: Account, caller: User, token_id: int, now: float) -> AccessToken:
    """A live token of the account the caller may see: their own, or any for an admin."""
    token = await stores.tokens.get_access(account.id, token_id)
    if (
        token is None
        or not (caller.is_admin or token.user_id == caller.id)
        or token.revoked_at is not None
        or token.is_expired(now)
    ):
        raise NotFound(f"no token with id {token_id} that you may see")
    return token


async def revoke(stores: Stores, account: Account, caller: User, token_id: int, actor: ev.Actor, now: float) -> None:
    """Revoke the token and its whole family: a revoked access token beside a live refresh
    token would come back (RFC 7009 section 2.1)."""
    token = await visible(stores, account, caller, token_id, now)

    change = f"revoked the token of user {token.user_id} for client {token.client_id}, and its refresh tokens"
    entry = ev.entry(account.id, actor, ev.REVOKE, ev.OAUTH_TOKEN, token.id, f"token {token.id}", change, now)
    await stores.tokens.revoke_family(token.family, now, entry)
