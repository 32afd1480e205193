"""The device code grant at the token endpoint: RFC 8628 sections 3.4 and 3.5
(INTERFACE.md section 7).

Order: the code is found, belongs to this account and client, is unused and unexpired;
then one poll (storage decides slow_down and reads the user's decision in the same
statement); then, once allowed, the tokens, claimed once.
"""

from __future__ import annotations

from typing import Any

from tessera.model import DEVICE_DENIED, DEVICE_PENDING
from tessera.protocol import device_authorization, resource_indicators, secrets, suspension
from tessera.protocol.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidGrant,
    SlowDown,
)
from tessera.protocol.grants import user_tokens
from tessera.protocol.grants.context import GrantContext, TokenRequest


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    now = request.now
    code = await ctx.device_codes.find(secrets.digest(request.required("device_code")))
    if code is None or code.account_id != request.account.id:
        raise InvalidGrant(
            "the device code is not valid here: check that it was copied whole and sent to this account",
            debug=None if code is None else f"device code id {code.id} belongs to account id {code.account_id}",
        )
    if code.client_id != request.client.id:
        raise InvalidGrant(
            "the device code was issued to another client",
            debug=f"device code id {code.id} was issued to client id {code.client_id}, "
            f"presented by client id {request.client.id}",
        )
    if code.used_at is not None:
        raise InvalidGrant(
            "this device code was already used: device codes work once. Start a new device authorization"
        )
    if code.is_expired(now):
        # RFC 8628 section 3.5: expired_token; the device may start again.
        raise ExpiredToken(
            f"the device code expired {int(now - code.expires_at)} seconds ago; device codes live "
            f"{device_authorization.LIFETIME} seconds. Start a new device authorization"
        )
    polled = await ctx.device_codes.poll(code.id, now)
    if polled.status == DEVICE_PENDING:
        if polled.slow_down:
            raise SlowDown(
                f"polled sooner than the interval allows; wait at least {polled.interval} seconds "
                "between requests from now on"
            )
        raise AuthorizationPending(
            f"the user has not yet entered the code and decided; poll again in {polled.interval} seconds"
        )
    if polled.status == DEVICE_DENIED:
        raise DeviceAccessDenied("the user denied this device access; stop polling")
    assert polled.user_id is not None and polled.auth_time is not None  # allowed: someone decided
    await suspension.refuse_suspended(ctx.users, request.account.id, polled.user_id)
    # RFC 8707 section 2: the device may name resources of the account when it redeems;
    # a resource that allows only some scopes narrows what the token carries.
    target = await resource_indicators.resolve(
        resource_indicators.requested(request.params), request.account.id, request.issuer, ctx.resources
    )
    return await user_tokens.issue(
        request,
        ctx,
        user_id=polled.user_id,
        scopes=resource_indicators.limit_scopes(code.scopes, target),
        family=secrets.new_family(),
        auth_time=polled.auth_time,
        nonce="",
        redeem=lambda rows: ctx.device_codes.redeem(code.id, now, rows),
        raced="this device code was redeemed by another request at the same moment; device codes work once",
        granted_scopes=code.scopes,
        audience=target.audience,
        refresh_audience=target.audience,
    )
