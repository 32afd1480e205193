"""Issuing a user's tokens once a grant has found its authorization: shared by the
authorization code grant (RFC 6749 section 4.1.4) and the device code grant (RFC 8628
section 3.5), which answer alike (INTERFACE.md section 7: "the usual token response,
refresh token and id_token as for the code grant").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tessera.protocol import id_token, issuance, lifetimes
from tessera.protocol.errors import InvalidGrant
from tessera.protocol.grants.context import GrantContext, TokenRequest
from tessera.protocol.ports import Redeemed, TokenRows

# Claims the authorization once and writes the tokens in the same transaction.
Redeem = Callable[[TokenRows], Awaitable[Redeemed]]


async def issue(
    request: TokenRequest,
    ctx: GrantContext,
    *,
    user_id: int,
    scopes: tuple[str, ...],
    family: str,
    auth_time: float,
    nonce: str,
    redeem: Redeem,
    raced: str,
    granted_scopes: tuple[str, ...] | None = None,
    audience: tuple[str, ...] = (),
    refresh_audience: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Mint the tokens, let `redeem` claim the authorization with them, and answer the
    token response (with an ID token when openid was granted, OIDC Core 3.1.3.3).
    `raced`: the invalid_grant description when another request claimed it first.
    `granted_scopes`: what the user granted, when `scopes` is fewer (a resource that allows
    only some, RFC 8707): the refresh token may ask for them later. `audience`: the
    resources the token is for (empty: the account's API); `refresh_audience`: what the
    refresh token may ask for later."""
    granted = scopes if granted_scopes is None else granted_scopes
    minted = issuance.mint(
        account_id=request.account.id,
        client=request.client,
        user_id=user_id,
        scopes=scopes,
        family=family,
        lifetimes=lifetimes.requested(request.params, request.client),
        now=request.now,
        with_refresh=issuance.wants_refresh_token(request.client, granted),
        refresh_scopes=None if scopes == granted else granted,
        jwt_key=await issuance.jwt_key_for(request.client, request.account.id, request.issuer, ctx.keys),
        audience=audience,
        refresh_audience=refresh_audience,
        jkt=request.dpop_jkt,
    )
    # The ID token is made before the authorization is claimed: a failure to make it (the
    # database out of reach) must not leave the code spent with no tokens answered.
    id_token = (
        await id_token_for(request, ctx, user_id, scopes, auth_time, nonce, minted.access_token)
        if "openid" in granted
        else None
    )
    outcome = await redeem(minted.rows)
    if outcome.reused:
        raise InvalidGrant(raced)
    body = issuance.token_response(minted)
    if id_token is not None:
        body["id_token"] = id_token
    return body


async def id_token_for(
    request: TokenRequest,
    ctx: GrantContext,
    user_id: int,
    scopes: tuple[str, ...],
    auth_time: float | None,
    nonce: str,
    access_token: str,
) -> str:
    """The ID token of a token response (OIDC Core 3.1.3.3), for the request's client."""
    return await id_token.issue(
        keys=ctx.keys,
        users=ctx.users,
        account_id=request.account.id,
        issuer=request.issuer,
        client=request.client,
        user_id=user_id,
        scopes=scopes,
        now=request.now,
        auth_time=auth_time,
        nonce=nonce,
        access_token=access_token,
    )
