"""The refresh token grant: RFC 6749 section 6; RFC 9700 section 4.14.2 (rotation and reuse).

Every use returns a new access token and a new refresh token and revokes the previous
access token. A refresh token is used once: the store claims it atomically (of concurrent
uses exactly one wins) and reports a token that was already used, with when and its
family. What a reuse means is decided here, in `_refuse_reuse`, and only here:

- presented again within TESSERA_REFRESH_REUSE_GRACE seconds of its use (inclusive), it is
  refused and nothing is revoked, so that a client's own concurrent refreshers do not
  destroy its session;
- later, it is treated as stolen and the whole family (everything descended from the
  original authorization) is revoked (RFC 9700 section 4.14.2: "the authorization server
  cannot determine which party submitted the invalid refresh token ... it will revoke the
  active refresh token"), and the error description says so.
"""

from __future__ import annotations

from typing import Any

from tessera.model import AuditEntry, Client, RefreshToken
from tessera.protocol import audit_entries, dpop, issuance, lifetimes, resource_indicators, secrets, suspension
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidGrant, InvalidScope, UnauthorizedClient
from tessera.protocol.grants import user_tokens
from tessera.protocol.grants.context import GrantContext, TokenRequest
from tessera.protocol.ports import AlreadyUsed, RevokedMeanwhile


def _may_refresh(client: Client, token: RefreshToken) -> None:
    # Refresh tokens go to clients with the refresh_token grant, or with offline_access granted.
    if "refresh_token" not in client.grant_types and "offline_access" not in token.scopes:
        raise UnauthorizedClient(f"the client {client.identifier!r} is not allowed the refresh_token grant")


def _same_dpop_key(token: RefreshToken, request: TokenRequest) -> None:
    """RFC 9449 section 5.1: a public client's refresh token is bound to the DPoP key it was
    issued with; "the authorization server MUST ensure that the DPoP proof ... uses the same
    public key that the refresh token is bound to"."""
    if token.jkt is None:
        return
    if request.dpop_jkt is None:
        raise dpop.InvalidDpopProof(
            "this refresh token is bound to a DPoP key: send a DPoP proof signed with that key (RFC 9449 section 5.1)"
        )
    if request.dpop_jkt != token.jkt:
        raise InvalidGrant(
            "this refresh token is bound to another DPoP key; sign the proof with the key the tokens were issued "
            "for (RFC 9449 section 5.1)"
        )


REVOKED = "the refresh token was revoked; the user must authorize the client again"


def _usable(token: RefreshToken | None, request: TokenRequest) -> RefreshToken:
    if token is None or token.account_id != request.account.id:
        raise InvalidGrant(
            "the refresh token is not valid here: check that it was copied whole and sent to this account",
            debug=None if token is None else f"refresh token id {token.id} belongs to account id {token.account_id}",
        )
    if token.client_id != request.client.id:
        raise InvalidGrant(
            "the refresh token was issued to another client",
            debug=f"refresh token id {token.id} was issued to client id {token.client_id}, "
            f"presented by client id {request.client.id}",
        )
    if token.revoked_at is not None:
        raise InvalidGrant(REVOKED)
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
        return scope_rules.still_allowed(token.scopes, request.client.allowed_scopes, "refresh token")
    wanted = scope_rules.validate(scope_rules.parse(raw), request.client.allowed_scopes)
    if not wanted or not scope_rules.covers(token.scopes, wanted):
        raise InvalidScope(
            f"scope {raw[:200]!r} goes beyond the original grant ({' '.join(token.scopes)}); "
            "a refresh may only keep or narrow it"
        )
    return wanted


async def _refuse_reuse(
    used: AlreadyUsed, request: TokenRequest, ctx: GrantContext, token: RefreshToken
) -> InvalidGrant:
    """The rule for a refresh token presented after it was used (INTERFACE.md section 4,
    "Single use and rotation"): refused within the grace window, theft after it."""
    now = request.now
    ago = now - used.used_at
    if ago <= ctx.refresh_reuse_grace:
        return InvalidGrant(
            f"this refresh token was just used ({int(ago)} seconds ago, within the {ctx.refresh_reuse_grace}-second "
            "grace window) by another request; use the tokens that request received"
        )
    # Theft: the one place a reused refresh token revokes its family, recorded in the audit
    # log in the same transaction.
    await ctx.tokens.revoke_family(used.family, now, await _reuse_entry(request, ctx, token))
    return InvalidGrant(
        f"this refresh token was already used {int(ago)} seconds ago; a used refresh token presented again "
        "after the grace window is treated as stolen, so every token of this authorization has been "
        "revoked. The user must authorize the client again"
    )


async def _reuse_entry(request: TokenRequest, ctx: GrantContext, token: RefreshToken) -> AuditEntry:
    """The REFRESH_REUSE entry, written with the revocation of the family."""
    user = await ctx.users.get(request.account.id, token.user_id)
    return audit_entries.refresh_reuse(
        request.account.id, request.client, user, token.user_id, request.ip_address, request.now
    )


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    token = await ctx.tokens.find_refresh(secrets.digest(request.required("refresh_token")))
    token = _usable(token, request)
    _may_refresh(request.client, token)
    _same_dpop_key(token, request)
    await suspension.refuse_suspended(ctx.users, request.account.id, token.user_id)
    scopes = _narrowed(request, token)
    # RFC 8707 section 2.2: a refresh may narrow the resources, never widen them; the new
    # refresh token keeps the original ones, as it keeps the original scopes.
    audience = resource_indicators.within(resource_indicators.requested(request.params), token.audience, request.issuer)
    scopes = await resource_indicators.still_registered(
        audience, scopes, request.account.id, request.issuer, ctx.resources
    )
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
        audience=audience,
        refresh_audience=token.audience,
        jkt=request.dpop_jkt,
    )
    id_token = None
    if "openid" in scopes:
        # INTERFACE.md section 4: an id_token whenever openid was granted; OIDC Core section
        # 12.2: the same iss, sub and aud, a new iat, and no auth_time but the original
        # authentication's, which a refresh token does not keep (so none). No nonce: it
        # answered the authentication request, and this is not one. Made before the
        # rotation: a failure to make it must not leave the refresh token spent.
        id_token = await user_tokens.id_token_for(request, ctx, token.user_id, scopes, None, "", minted.access_token)
    rotation = await ctx.tokens.rotate(token.id, request.now, minted.rows)
    if isinstance(rotation, AlreadyUsed):
        raise await _refuse_reuse(rotation, request, ctx, token)
    if isinstance(rotation, RevokedMeanwhile):
        raise InvalidGrant(REVOKED)
    body = issuance.token_response(minted)
    if id_token is not None:
        body["id_token"] = id_token
    return body
