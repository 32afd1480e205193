"""The UserInfo endpoint and its claims: OpenID Connect Core 1.0 sections 5.1, 5.3 and 5.4.

The token is looked up, verified (RFC 6750 section 3.1), and must carry `openid`
(section 5.3: "the Access Token obtained from an OpenID Connect Authentication Request").
`sub` is the user's numeric id as a string: stable, never reassigned, and local to the
account (pairwise subjects are not offered). Emails are not verified by Tessera, so
email_verified is false rather than a claim we cannot stand behind.

Section 5.4: the address scope asks for the `address` claim, phone for `phone_number` and
`phone_number_verified`. They are released when a user has them; Tessera keeps neither,
so these scopes release nothing today (section 5.3.2: claims without a value "SHOULD be
omitted").
"""

from __future__ import annotations

from typing import Any

from tessera.model import User
from tessera.protocol import bearer, dpop, token_lookup
from tessera.protocol.errors import InvalidToken, OAuthError
from tessera.protocol.ports import KeyRing, TokenStore, UserStore

REQUIRED_SCOPE = "openid"


def subject(user: User) -> str:
    return str(user.id)


def scoped_claims(user: User, scopes: tuple[str, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "profile" in scopes:
        body["name"] = user.name
        body["preferred_username"] = user.email
        body["updated_at"] = int(user.updated_at)
    if "email" in scopes:
        body["email"] = user.email
        body["email_verified"] = False
    return body


def claims(user: User, scopes: tuple[str, ...]) -> dict[str, Any]:
    return {"sub": subject(user), **scoped_claims(user, scopes)}


async def respond(
    value: str,
    account_id: int,
    issuer: str,
    now: float,
    *,
    tokens: TokenStore,
    keys: KeyRing,
    users: UserStore,
    dpop_check: dpop.ProofCheck | None = None,
) -> dict[str, Any]:
    """The claims for a presented access token, or an RFC 6750 section 3.1 error.
    `dpop_check`: the token came as `Authorization: DPoP` (RFC 9449 section 7.1); every
    refusal is then a dpop.DpopRefused."""
    if dpop_check is None:
        return await _respond(value, account_id, issuer, now, tokens, keys, users, None)
    try:
        return await _respond(value, account_id, issuer, now, tokens, keys, users, dpop_check)
    except OAuthError as error:
        raise dpop.DpopRefused(error) from None


async def _respond(
    value: str,
    account_id: int,
    issuer: str,
    now: float,
    tokens: TokenStore,
    keys: KeyRing,
    users: UserStore,
    dpop_check: dpop.ProofCheck | None,
) -> dict[str, Any]:
    found = await token_lookup.access_token(tokens, keys, account_id, issuer, value)
    token = bearer.verify(found, account_id, now)
    if dpop_check is not None:
        proof = await dpop.verify_for_token(dpop_check, token, value, now)
        await dpop.claim(dpop_check.used_once, proof, now)
    elif token.jkt is not None:
        raise dpop.DpopRefused(dpop.bound_token_as_bearer())
    bearer.require_scope(token.scopes, REQUIRED_SCOPE)
    user = await users.get(account_id, token.user_id)
    if user is None:
        raise InvalidToken("the user this token acts for no longer exists")
    bearer.refuse_suspended(user)
    return claims(user, token.scopes)
