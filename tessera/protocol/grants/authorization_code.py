"""The authorization code grant at the token endpoint: RFC 6749 sections 4.1.3, 4.1.4 and
10.5; RFC 7636 section 4.6; RFC 9700 sections 2.1.1 and 4.2.
"""

from __future__ import annotations

import hmac
from typing import Any

from tessera.model import AuditEntry, AuthorizationCode, Client
from tessera.protocol import audit_entries, pkce, redirect_uri, resource_indicators, secrets, suspension
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidGrant, echo
from tessera.protocol.grants import user_tokens
from tessera.protocol.grants.context import GrantContext, TokenRequest

_REUSED = (
    "this authorization code was already used; codes work once, so every token issued from it "
    "has been revoked. Start a new authorization"
)


_RACED = "this authorization code was redeemed by another request at the same moment; codes work once"
# Seconds before a code's use within which a request that then found it used counts as
# concurrent: longer than a redemption takes, short enough to bound what clock skew between
# nodes can hide.
CONCURRENT = 1.0


def _check_redirect_uri(code: AuthorizationCode, client: Client, sent: str | None) -> None:
    # Section 4.1.3: redirect_uri is "REQUIRED, if the redirect_uri parameter was included
    # in the authorization request ... and their values MUST be identical."
    if code.redirect_uri:
        if sent is None:
            raise InvalidGrant(
                f"redirect_uri is required: the authorization request sent {echo(code.redirect_uri, 200)}, "
                "so the token request must send the same value"
            )
        if sent != code.redirect_uri:
            raise InvalidGrant(
                f"redirect_uri {echo(sent, 200)} differs from the one in the authorization request "
                f"({echo(code.redirect_uri, 200)}); send exactly the same value"
            )
    elif sent is not None and redirect_uri.resolve(sent, client.redirect_uris) is None:
        raise InvalidGrant(f"redirect_uri {echo(sent, 200)} is not registered for this client")


async def _replay_entry(request: TokenRequest, ctx: GrantContext, code: AuthorizationCode) -> AuditEntry:
    user = await ctx.users.get(request.account.id, code.user_id)
    return audit_entries.code_replay(
        request.account.id, request.client, user, code.user_id, request.ip_address, request.now
    )


def _check_dpop_binding(code: AuthorizationCode, proof_jkt: str | None) -> None:
    """RFC 9449 section 10: a code whose request named dpop_jkt (or pushed a DPoP proof) is
    redeemed only with a proof signed by that key; "If they do not match, it MUST reject
    the request"."""
    if code.dpop_jkt is None:
        return
    if proof_jkt is None:
        raise InvalidGrant(
            "the authorization code is bound to a DPoP key (dpop_jkt in its authorization request): "
            "send a DPoP proof signed by that key (RFC 9449 section 10)"
        )
    if not hmac.compare_digest(proof_jkt, code.dpop_jkt):
        raise InvalidGrant(
            "the DPoP proof is signed by another key than the one the authorization request named in dpop_jkt "
            "(RFC 9449 section 10)"
        )


async def handle(request: TokenRequest, ctx: GrantContext) -> dict[str, Any]:
    now = request.now
    code = await ctx.codes.find(secrets.digest(request.required("code")))
    if code is None or code.account_id != request.account.id:
        raise InvalidGrant(
            "the authorization code is not valid here: check that it was copied whole and sent to this account",
            # The client is not told that the code exists elsewhere; the operator is.
            debug=None if code is None else f"code id {code.id} belongs to account id {code.account_id}",
        )
    if code.client_id != request.client.id:
        raise InvalidGrant(
            "the authorization code was issued to another client",
            debug=f"code id {code.id} was issued to client id {code.client_id}, presented by client id {request.client.id}",
        )
    if code.used_at is not None:
        if 0 < code.used_at - now <= CONCURRENT:
            # This request arrived before the code was used: a redemption running at the same
            # moment as the one that won (INTERFACE.md: "of concurrent redemptions exactly one
            # succeeds"), whose tokens stay good; only a later presentation is a replay. The
            # times are two nodes' clocks: a replay on a node whose clock is behind by less
            # than CONCURRENT seconds, within that lag, would pass for concurrent; a clock
            # further off makes every such presentation a replay again.
            raise InvalidGrant(_RACED, debug=f"code id {code.id} was used at {code.used_at:.3f}, after {now:.3f}")
        # Section 4.1.2: the server "SHOULD revoke (when possible) all tokens previously
        # issued based on that authorization code".
        await ctx.tokens.revoke_family(code.family, now, await _replay_entry(request, ctx, code))
        raise InvalidGrant(_REUSED, debug=f"code id {code.id} was used at {code.used_at:.0f}; its tokens are revoked")
    if now >= code.expires_at:
        raise InvalidGrant(
            f"the authorization code expired {int(now - code.expires_at)} seconds ago; codes live "
            f"{ctx.code_lifetime} seconds, so exchange it right after the redirect or start a new authorization"
        )
    _check_redirect_uri(code, request.client, request.params.get("redirect_uri"))
    pkce.verify(request.params.get("code_verifier"), code.code_challenge)
    _check_dpop_binding(code, request.dpop_jkt)
    scope_rules.still_allowed(code.scopes, request.client.allowed_scopes, "authorization code")
    # RFC 8707 section 2.2: the token may be for the resources of the authorization, or fewer.
    requested = resource_indicators.requested(request.params)
    audience = resource_indicators.within(requested, code.audience, request.issuer)
    scopes = await resource_indicators.still_registered(
        audience, code.scopes, request.account.id, request.issuer, ctx.resources
    )
    await suspension.refuse_suspended(ctx.users, request.account.id, code.user_id)
    # This request saw the code unused; if it loses the race to another redemption running
    # at the same moment (INTERFACE.md "of concurrent redemptions exactly one succeeds"),
    # the winner keeps its tokens. A later presentation (above) is a replay and revokes them.
    # The code is marked used at the moment of its write, not of this request's arrival, so
    # that a request which arrived before that moment, and read the code once it was used,
    # is known as concurrent (above) rather than as a replay.
    return await user_tokens.issue(
        request,
        ctx,
        user_id=code.user_id,
        scopes=scopes,
        family=code.family,
        auth_time=code.auth_time,
        nonce=code.nonce,
        redeem=lambda rows: ctx.codes.redeem(code.id, max(now, ctx.clock()), rows),
        raced=_RACED,
        granted_scopes=code.scopes,
        audience=audience,
        refresh_audience=code.audience,
    )
