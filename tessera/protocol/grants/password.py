"""The resource owner password credentials grant: RFC 6749 sections 4.3.2 and 4.3.3.

Off unless enabled for the client (RFC 9700 section 2.4 says it "MUST NOT be used"; Zendesk
still offers it, so Tessera keeps it opt-in). Attempts count against the same
throttles as the login page (section 10.7 asks for protection against brute force); a
throttled one is 429 too_many_requests with Retry-After (INTERFACE.md section 9).
"""

from __future__ import annotations

from typing import Any

from tessera.protocol import issuance, lifetimes, resource_indicators, secrets
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidGrant, TooManyRequests
from tessera.protocol.grants import user_tokens
from tessera.protocol.grants.context import GrantContext, TokenRequest
from tessera.protocol.ports import SignInRefused


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    email = request.required("username")
    password = request.required("password")
    scopes = scope_rules.resolve(request.params.get("scope"), request.client.allowed_scopes)
    # RFC 8707 section 2: any resource of the account; without `resource`, no lookup.
    target = await resource_indicators.resolve(
        resource_indicators.requested(request.params), request.account.id, request.issuer, ctx.resources
    )
    scopes = resource_indicators.limit_scopes(scopes, target)
    try:
        user = await ctx.authenticator.authenticate(
            request.account.id,
            email,
            password,
            request.now,
            ip_address=request.ip_address,
            client_name=request.client.name,
        )
    except SignInRefused as refused:
        if refused.retry_after is not None:
            raise TooManyRequests(str(refused), retry_after=refused.retry_after) from None
        raise InvalidGrant(str(refused)) from None
    minted = issuance.mint(
        account_id=request.account.id,
        client=request.client,
        user_id=user.id,
        scopes=scopes,
        family=secrets.new_family(),
        lifetimes=lifetimes.requested(request.params, request.client),
        now=request.now,
        jwt_key=await issuance.jwt_key_for(request.client, request.account.id, request.issuer, ctx.keys),
        with_refresh=issuance.wants_refresh_token(request.client, scopes),
        audience=target.audience,
        jkt=request.dpop_jkt,
    )
    await ctx.tokens.issue(minted.rows)
    body = issuance.token_response(minted)
    if "openid" in scopes:
        # INTERFACE.md section 4: an id_token whenever openid was granted. The user has just
        # authenticated with their password, so auth_time is now; no nonce was sent.
        body["id_token"] = await user_tokens.id_token_for(
            request, ctx, user.id, scopes, request.now, "", minted.access_token
        )
    return body
