"""The client credentials grant: RFC 6749 sections 4.4.2 and 4.4.3.

The token acts as the client's owner (a user of the account, as at Zendesk). Section 4.4.3:
"A refresh token SHOULD NOT be included"; Tessera never issues one here.
"""

from __future__ import annotations

from typing import Any

from tessera.protocol import issuance, lifetimes, resource_indicators, secrets, suspension
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidScope, UnauthorizedClient
from tessera.protocol.grants.context import GrantContext, TokenRequest

_USER_ONLY_SCOPES = frozenset(scope_rules.OIDC_SCOPES)


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    client = request.client
    if client.is_public:
        # Section 4.4: "The client credentials grant type MUST only be used by confidential clients."
        raise UnauthorizedClient("client_credentials needs a confidential client; this one is public")
    if client.user_id is None or client.is_global:
        raise UnauthorizedClient(
            "this client has no owner in this account, so its client_credentials tokens would act as nobody"
        )
    await suspension.refuse_suspended(ctx.users, request.account.id, client.user_id, UnauthorizedClient)
    scopes = scope_rules.resolve(request.params.get("scope"), client.allowed_scopes)
    user_only = sorted(_USER_ONLY_SCOPES.intersection(scopes))
    if user_only:
        raise InvalidScope(f"scope {' '.join(user_only)} needs a signed-in user; client_credentials has none")
    # RFC 8707 section 2: any resource of the account; without `resource`, no lookup (and
    # no coroutine: this is the hottest grant).
    requested = resource_indicators.requested(request.params)
    target = resource_indicators.DEFAULT
    if requested:
        target = await resource_indicators.resolve(requested, request.account.id, request.issuer, ctx.resources)
        scopes = resource_indicators.limit_scopes(scopes, target)
    minted = issuance.mint(
        account_id=request.account.id,
        client=client,
        user_id=client.user_id,
        scopes=scopes,
        family=secrets.new_family(),
        lifetimes=lifetimes.requested(request.params, client),
        now=request.now,
        jwt_key=await issuance.jwt_key_for(request.client, request.account.id, request.issuer, ctx.keys),
        with_refresh=False,
        audience=target.audience,
        jkt=request.dpop_jkt,
    )
    await ctx.tokens.issue(minted.rows)
    return issuance.token_response(minted)
