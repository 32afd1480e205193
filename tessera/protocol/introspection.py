"""Token introspection: RFC 7662 sections 2.1-2.3.

Callers authenticate as confidential clients (section 2.1: the endpoint "MUST require some
form of authorization"). A client may introspect the tokens issued to it; a client created
with --introspection (a resource server) any token of its account. Every other token, and
every token that is not active, is answered with only {"active": false} (section 2.2), so
the answer tells an unauthorised caller nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera import paths
from tessera.model import AccessToken, Account, Client, RefreshToken
from tessera.protocol import client_assertion, client_auth, resource_indicators, token_lookup
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidClient, InvalidRequest, refuse_repeated
from tessera.protocol.ports import ClientDocuments, ClientStore, KeyRing, TokenStore, UsedOnceStore, UserStore

INACTIVE: dict[str, Any] = {"active": False}
PUBLIC_CALLER = "introspection needs a confidential client that authenticates with its secret"


def _active(token: AccessToken | RefreshToken, now: float) -> bool:
    if token.revoked_at is not None:
        return False
    if isinstance(token, RefreshToken):
        return token.used_at is None and now < token.expires_at
    return not token.is_expired(now)


def _may_see(caller: Client, token: AccessToken | RefreshToken) -> bool:
    return token.client_id == caller.id or caller.introspection


async def endpoint(
    params: Mapping[str, str],
    repeated: frozenset[str],
    authorization: str | None,
    account: Account,
    issuer: str,
    now: float,
    *,
    tokens: TokenStore,
    clients: ClientStore,
    users: UserStore,
    keys: KeyRing,
    documents: ClientDocuments | None = None,
    used_once: UsedOnceStore | None = None,
) -> dict[str, Any]:
    """POST /oauth/introspect, in the token endpoint's order: parameters single, the caller
    authenticated, then the token."""
    refuse_repeated(repeated, "RFC 7662 section 2.1")
    caller = await client_auth.authenticate_client(
        clients,
        account,
        authorization,
        params,
        now=now,
        documents=documents,
        assertions=client_assertion.at(used_once, issuer, paths.TOKEN, paths.INTROSPECT),
    )
    if caller.is_public:
        # RFC 6749 section 5.2: invalid_client, with the Basic challenge when the public
        # client sent its client_id (and an empty secret) over Basic.
        raise client_auth.ClientAuthenticationFailed(
            PUBLIC_CALLER, used_basic=client_auth.parse(authorization, params).used_basic
        )
    return await introspect(
        params, caller, account, issuer, now, tokens=tokens, clients=clients, users=users, keys=keys
    )


async def introspect(
    params: Mapping[str, str],
    caller: Client,
    account: Account,
    issuer: str,
    now: float,
    *,
    tokens: TokenStore,
    clients: ClientStore,
    users: UserStore,
    keys: KeyRing,
) -> dict[str, Any]:
    if caller.is_public:
        raise InvalidClient(PUBLIC_CALLER)
    value = params.get("token")
    if not value:
        raise InvalidRequest("token is required: send the token to introspect")
    found = await token_lookup.find(tokens, keys, account.id, issuer, value, params.get("token_type_hint"))
    token = found.access or found.refresh
    if token is None or token.account_id != account.id or not _may_see(caller, token) or not _active(token, now):
        return dict(INACTIVE)
    owner = caller if token.client_id == caller.id else await clients.find_by_numeric_id(account.id, token.client_id)
    user = await users.get(account.id, token.user_id)
    if owner is None or user is None or user.is_suspended:
        # A suspended user's tokens are not active (INTERFACE.md section 6, "Users").
        return dict(INACTIVE)
    body: dict[str, Any] = {
        "active": True,
        "scope": scope_rules.format_scopes(token.scopes),
        "client_id": owner.identifier,
        "username": user.email,
        "sub": str(user.id),
        "iat": int(token.created_at),
        "token_type": "refresh_token" if found.refresh is not None else "bearer",
        # RFC 7662 section 2.2 / RFC 8707 section 2: the resources the token is for.
        "aud": resource_indicators.aud_claim(token.audience, issuer),
        "iss": issuer,
    }
    if token.expires_at is not None:
        body["exp"] = int(token.expires_at)
    if token.jkt is not None:
        # RFC 9449 section 6.2: the key a DPoP-bound token is bound to, and its type.
        body["cnf"] = {"jkt": token.jkt}
        if found.access is not None:
            body["token_type"] = "DPoP"
    return body
