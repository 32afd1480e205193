"""JWT access tokens: RFC 9068 sections 2.1-2.2 and 4.

A client may choose them instead of opaque tokens. The JWT is signed with the account's
current key for the client's algorithm and carries a random `jti`; the store keeps the
digest of the jti, so a JWT is revoked, introspected and listed like any other token
(INTERFACE.md section 3). Resource servers may verify it against the JWKS alone, which is
why its default lifetime is short (5 minutes).
"""

from __future__ import annotations

import secrets as random
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tessera.model import Client
from tessera.protocol.ports import LoadedKey

TYP = "at+jwt"


def looks_like_jwt(value: str) -> bool:
    """Opaque Tessera tokens never contain a dot; a compact JWS has exactly two."""
    return value.count(".") == 2 and value.startswith("eyJ")


def new_jti() -> str:
    return random.token_urlsafe(32)


def encode(
    key: LoadedKey,
    *,
    issuer: str,
    client: Client,
    user_id: int,
    scopes: tuple[str, ...],
    jti: str,
    now: float,
    expires_at: float,
    audience: str | list[str],
    auth_time: float | None = None,
    jkt: str | None = None,
) -> str:
    """`audience`: the resources the token is for (RFC 9068 section 3: "the resource
    indicated in the request", else a default: the account's API)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": audience,
        "client_id": client.identifier,
        "iat": int(now),
        "exp": int(expires_at),
        "jti": jti,
        "scope": " ".join(scopes),
    }
    if auth_time is not None:
        claims["auth_time"] = int(auth_time)
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}  # RFC 9449 section 6.1: the DPoP key it is bound to
    return jwt.encode({"alg": key.alg, "kid": key.kid, "typ": TYP}, claims, key.key)


def jti_of(value: str, keys: KeySet, issuer: str) -> str | None:
    """The jti of a JWT access token this issuer signed; None when it is not one.

    Expiry is not checked here: the stored row holds the same `exp`, and checking it there
    gives the caller the same precise reason as for an opaque token.
    """
    try:
        token = jwt.decode(value, keys, algorithms=["ES256", "RS256"])
    except (JoseError, ValueError):
        return None
    if token.header.get("typ", "").lower() not in (TYP, "application/at+jwt") or token.claims.get("iss") != issuer:
        return None
    jti = token.claims.get("jti")
    return jti if isinstance(jti, str) and jti else None
