"""The token endpoint: RFC 6749 sections 3.2, 3.2.1, 5.1, 5.2.

Order: parameters single -> client authenticated -> grant type known -> client allowed the
grant -> the grant's own checks. Client authentication comes before anything that could
tell an unauthenticated caller about a code or token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera import paths
from tessera.model import Account
from tessera.protocol import client_assertion, client_auth, dpop
from tessera.protocol.errors import InvalidRequest, UnauthorizedClient, UnsupportedGrantType, echo, refuse_repeated
from tessera.protocol.grants import GRANTS
from tessera.protocol.grants.context import GrantContext, TokenRequest


async def exchange(
    params: Mapping[str, str],
    repeated: frozenset[str],
    authorization: str | None,
    account: Account,
    issuer: str,
    now: float,
    ctx: GrantContext,
    ip_address: str | None = None,
    dpop_check: dpop.ProofCheck | None = None,
) -> dict[str, Any]:
    """`dpop_check`: the request's DPoP header and URL (RFC 9449 section 5), checked once
    the client is authenticated; the tokens issued are then bound to the proof's key."""
    refuse_repeated(repeated, "RFC 6749 section 3.2")
    if "client_assertion" in params:
        dpop.nonce_before_assertion(dpop_check, now)
    client = await client_auth.authenticate_client(
        ctx.clients,
        account,
        authorization,
        params,
        now=now,
        documents=ctx.documents,
        # Built only for a request that carries an assertion: the secret path stays as cheap as before.
        assertions=(
            client_assertion.at(ctx.used_once, issuer, paths.TOKEN, paths.TOKEN)
            if "client_assertion" in params
            else None
        ),
    )
    grant_type = params.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required, e.g. grant_type=authorization_code")
    entry = GRANTS.get(grant_type)
    if entry is None:
        raise UnsupportedGrantType(
            f"grant_type {echo(grant_type)} is not supported; use one of: {', '.join(sorted(GRANTS))}"
        )
    allowed_name, handler = entry
    if allowed_name is not None and allowed_name not in client.grant_types:
        raise UnauthorizedClient(
            f"the client {client.identifier!r} is not allowed the {allowed_name} grant; "
            f"it may use: {', '.join(sorted(client.grant_types))}"
        )
    jkt = await dpop.at_token_endpoint(dpop_check, client, now)
    request = TokenRequest(
        params=params, client=client, account=account, issuer=issuer, now=now, ip_address=ip_address, dpop_jkt=jkt
    )
    return await handler(request, ctx)
