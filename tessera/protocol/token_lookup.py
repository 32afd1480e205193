"""Finding a presented token of either kind (RFC 7009 section 2.1, RFC 7662 section 2.1).

`token_type_hint` only changes the order of the lookups: "If the server is unable to
locate the token using the given hint, it MUST extend its search across all of its
supported token types." Prefixes say what a Tessera token is, so the hint is rarely needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.model import AccessToken, RefreshToken
from tessera.protocol import secrets
from tessera.protocol.ports import TokenStore


@dataclass(frozen=True, slots=True)
class Found:
    access: AccessToken | None = None
    refresh: RefreshToken | None = None


async def find(tokens: TokenStore, value: str, hint: str | None) -> Found:
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
