"""The refresh token grant: RFC 6749 section 6; RFC 9700 section 4.14.2 (rotation and reuse).

Every use returns a new access token and a new refresh token and revokes the previous
access token. A refresh token is used once: of concurrent uses one wins and the others
are told it was just used. Presented again more than TESSERA_REFRESH_REUSE_GRACE seconds
after its use, it is treated as stolen and the whole family (everything descended from the
original authorization) is revoked (RFC 9700 section 4.14.2: "the authorization server
cannot determine which party submitted the invalid refresh token ... it will revoke the
active refresh token"). Inside the window nothing is revoked, so that a client's own
concurrent refreshers do not destroy its session.
"""

from __future__ import annotations

from typing import Any

from tessera.model import AuditEntry, Client, RefreshToken
from tessera.protocol import audit_entries, issuance, lifetimes, secrets, suspension
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidGrant, InvalidScope, UnauthorizedClient
from tessera.protocol.grants.context import GrantContext, TokenRequest
from tessera.protocol.ports import Rotation


def _may_refresh(client: Client, token: RefreshToken) -> None:
    # Refresh tokens go to clients with the refresh_token grant, or with offline_access granted.
    if "refresh_token" not in client.grant_types and "offline_access" not in token.scopes:
        raise UnauthorizedClient(f"the client {client.identifier!r} is not allowed the refresh_token grant")


def _usable(token: RefreshToken | None, request: TokenRequest) -> RefreshToken:
    if token is None or token.account_id != request.account.id:
        raise InvalidGrant(
            "the refresh token is not valid here: check that it was copied whole and sent to this account"
        )
    if token.client_id != request.client.id:
        raise InvalidGrant("the refresh token was issued to another client")
    if token.revoked_at is not None:
        raise InvalidGrant("the refresh token was revoked; the user must authorize the client again")
    if token.used_at is None and request.now >= token.expires_at:
        raise InvalidGrant(
            f"the refresh token expired {int(request.now - token.expires_at)} seconds ago; "
            "the user must authorize the client again"
        )
    return token


def _narrowed(request: TokenRequest, token: RefreshToken) -> tuple[str, ...]:
    """Section 6: scope may narrow; "if omitted is treated as equal to the scope originally granted"."""
    raw = request.params.get("scope")
    if raw is None:
        return token.scopes
    wanted = scope_rules.validate(scope_rules.parse(raw), ())
    if not wanted or not scope_rules.covers(token.scopes, wanted):
        raise InvalidScope(
            f"scope {raw[:200]!r} goes beyond the original grant ({' '.join(token.scopes)}); "
            "a refresh may only keep or narrow it"
        )
    return wanted


def _refused(rotation: Rotation, now: float, grace: int) -> InvalidGrant:
    ago = int(now - rotation.used_at) if rotation.used_at is not None else 0
    if rotation.family_revoked:
        return InvalidGrant(
            f"this refresh token was already used {ago} seconds ago; a used refresh token presented again "
            "after the grace window is treated as stolen, so every token of this authorization has been "
            "revoked. The user must authorize the client again"
        )
    return InvalidGrant(
        f"this refresh token was just used ({ago} seconds ago, within the {grace}-second grace window) by "
        "another request; use the tokens that request received"
    )


async def _reuse_entry(request: TokenRequest, ctx: GrantContext, token: RefreshToken) -> AuditEntry:
    """The REFRESH_REUSE entry, for rotate to write if it revokes the family. The user's name
    is looked up only for a token already used: a first use is almost never a reuse (only
    after a stall longer than the grace window), and then the entry names the user by id."""
    user = None if token.used_at is None else await ctx.users.get(request.account.id, token.user_id)
    return audit_entries.refresh_reuse(
        request.account.id, request.client, user, token.user_id, request.ip_address, request.now
    )


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    token = await ctx.tokens.find_refresh(secrets.digest(request.required("refresh_token")))
    token = _usable(token, request)
    _may_refresh(request.client, token)
    await suspension.refuse_suspended(ctx.users, request.account.id, token.user_id)
    scopes = _narrowed(request, token)
    minted = issuance.mint(
        account_id=request.account.id,
        client=request.client,
        user_id=token.user_id,
        scopes=scopes,
        family=token.family,
        lifetimes=lifetimes.requested(request.params, request.client),
        now=request.now,
        jwt_key=await issuance.jwt_key_for(request.client, request.account.id, request.issuer, ctx.keys),
        with_refresh=True,
        refresh_scopes=token.scopes,
    )
    rotation = await ctx.tokens.rotate(
        token.id, request.now, ctx.refresh_reuse_grace, minted.rows, await _reuse_entry(request, ctx, token)
    )
    if rotation.access_token_id is None:
        raise _refused(rotation, request.now, ctx.refresh_reuse_grace)
    return issuance.token_response(minted)
