"""Token revocation: RFC 7009 sections 2.1 and 2.2.

The caller authenticates as at the token endpoint. Unknown tokens get 200 too (section
2.2: "invalid tokens do not cause an error response since the client cannot handle such
an error in a reasonable way"). A refresh token's revocation revokes its whole family,
including the access tokens issued with it (section 2.1 "SHOULD also invalidate all
access tokens based on the same authorization grant"); an access token's revokes that
token alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from tessera import paths
from tessera.model import Account, Client
from tessera.protocol import audit_entries, client_assertion, client_auth, token_lookup
from tessera.protocol.errors import InvalidRequest, UnauthorizedClient, refuse_repeated
from tessera.protocol.ports import ClientDocuments, ClientStore, KeyRing, TokenStore, UsedOnceStore, UserStore


async def endpoint(
    params: Mapping[str, str],
    repeated: frozenset[str],
    authorization: str | None,
    account: Account,
    issuer: str,
    now: float,
    *,
    clients: ClientStore,
    tokens: TokenStore,
    keys: KeyRing,
    users: UserStore,
    ip_address: str | None,
    documents: ClientDocuments | None = None,
    used_once: UsedOnceStore | None = None,
) -> None:
    """POST /oauth/revoke, in the token endpoint's order: parameters single, the client
    authenticated (section 2.1: "the client also includes its authentication credentials"),
    then the token."""
    refuse_repeated(repeated, "RFC 7009 section 2.1")
    client = await client_auth.authenticate_client(
        clients,
        account,
        authorization,
        params,
        now=now,
        documents=documents,
        assertions=client_assertion.at(used_once, issuer, paths.TOKEN, paths.REVOKE),
    )
    await revoke(params, client, account, issuer, now, tokens, keys, users=users, ip_address=ip_address)


async def revoke(
    params: Mapping[str, str],
    client: Client,
    account: Account,
    issuer: str,
    now: float,
    tokens: TokenStore,
    keys: KeyRing,
    *,
    users: UserStore,
    ip_address: str | None,
) -> None:
    """Revoke the token; the audit entry (REVOKE, acting as the token's user) is written
    with the revocation, and only when something was revoked."""
    value = params.get("token")
    if not value:
        raise InvalidRequest("token is required: send the access or refresh token to revoke")
    found = await token_lookup.find(tokens, keys, account.id, issuer, value, params.get("token_type_hint"))
    token = found.access or found.refresh
    if token is None or token.account_id != account.id:
        return
    if token.client_id != client.id:
        # Section 2.1: the server "verifies whether the token was issued to the client making
        # the revocation request. If this validation fails, the request is refused".
        raise UnauthorizedClient(
            "this token was issued to another client; only that client may revoke it",
            debug=f"token id {token.id} was issued to client id {token.client_id}, revocation asked by client id {client.id}",
        )
    user = await users.get(account.id, token.user_id)
    if found.refresh is not None:
        entry = audit_entries.token_revoked(
            account.id, client, user, token.user_id, found.refresh.access_token_id, True, ip_address, now
        )
        await tokens.revoke_family(found.refresh.family, now, entry)
    elif found.access is not None and found.access.revoked_at is None:
        entry = audit_entries.token_revoked(
            account.id, client, user, token.user_id, found.access.id, False, ip_address, now
        )
        await tokens.revoke_access(found.access.id, now, entry)
