"""Finding a presented token (RFC 6750 section 2, RFC 7009 section 2.1, RFC 7662 section 2.1).

Opaque tokens are stored under their own digest; a JWT access token (RFC 9068) under the
digest of its jti, once its signature verifies against the account's published keys.
`token_type_hint` only changes the order of the lookups: "If the server is unable to
locate the token using the given hint, it MUST extend its search across all of its
supported token types." Prefixes say what a Tessera token is, so the hint is rarely needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.model import AccessToken, RefreshToken
from tessera.protocol import jwt_access_tokens, secrets
from tessera.protocol.ports import KeyRing, TokenStore


@dataclass(frozen=True, slots=True)
class Found:
    access: AccessToken | None = None
    refresh: RefreshToken | None = None


async def access_token(
    tokens: TokenStore, keys: KeyRing, account_id: int, issuer: str, value: str
) -> AccessToken | None:
    """The stored access token for a presented value (opaque or JWT), or None."""
    if jwt_access_tokens.looks_like_jwt(value):
        jti = jwt_access_tokens.jti_of(value, await keys.published(account_id), issuer)
        return None if jti is None else await tokens.find_access(secrets.digest(jti))
    return await tokens.find_access(secrets.digest(value))


async def find(tokens: TokenStore, keys: KeyRing, account_id: int, issuer: str, value: str, hint: str | None) -> Found:
    if jwt_access_tokens.looks_like_jwt(value):
        return Found(access=await access_token(tokens, keys, account_id, issuer, value))
    digest = secrets.digest(value)
    refresh_first = hint == "refresh_token" or value.startswith(secrets.REFRESH_TOKEN_PREFIX)
    if refresh_first:
        refresh = await tokens.find_refresh(digest)
        if refresh is not None:
            return Found(refresh=refresh)
        return Found(access=await tokens.find_access(digest))
    access = await tokens.find_access(digest)
    if access is not None:
        return Found(access=access)
    return Found(refresh=await tokens.find_refresh(digest))
