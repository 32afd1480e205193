"""ID tokens: OpenID Connect Core 1.0 sections 2, 3.1.3.6, 3.1.3.7 and 5.4.

Claims: iss, sub (the user's id, stable per account), aud (the client_id), exp, iat,
auth_time (whenever it is known: OIDC Core 2 requires it whenever max_age was sent; a
refresh does not know it, and section 12.2 allows no other value than the original
authentication's, so a refreshed ID token has none), nonce when the request had one, at_hash for the access token issued beside
it, amr ("pwd": the user signed in with a password). With the profile and email scopes
the ID token also carries those claims, as it would for response_type=id_token (5.4).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tessera.model import Client, User
from tessera.protocol import userinfo
from tessera.protocol.errors import InvalidGrant
from tessera.protocol.ports import KeyRing, LoadedKey, UserStore

LIFETIME = 3600


def left_half_hash(value: str) -> str:
    """OIDC Core 3.1.3.6 at_hash (and 3.3.2.11 c_hash): base64url of the left half of the
    SHA-256 digest of the ASCII value (ES256 and RS256 both use SHA-256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def claims(
    *,
    issuer: str,
    client: Client,
    user: User,
    scopes: tuple[str, ...],
    now: float,
    auth_time: float | None,
    nonce: str,
    access_token: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iss": issuer,
        "sub": userinfo.subject(user),
        "aud": client.identifier,
        "exp": int(now) + LIFETIME,
        "iat": int(now),
        "amr": ["pwd"],
    }
    if auth_time is not None:
        body["auth_time"] = int(auth_time)
    if nonce:
        body["nonce"] = nonce
    if access_token is not None:
        body["at_hash"] = left_half_hash(access_token)
    body.update(userinfo.scoped_claims(user, scopes))
    return body


def encode(key: LoadedKey, body: dict[str, Any]) -> str:
    return jwt.encode({"alg": key.alg, "kid": key.kid, "typ": "JWT"}, body, key.key)


async def issue(
    *,
    keys: KeyRing,
    users: UserStore,
    account_id: int,
    issuer: str,
    client: Client,
    user_id: int,
    scopes: tuple[str, ...],
    now: float,
    auth_time: float | None,
    nonce: str,
    access_token: str | None,
) -> str:
    user = await users.get(account_id, user_id)
    if user is None:
        raise InvalidGrant("the user who authorized this request no longer exists")
    key = await keys.signing_key(account_id, client.signing_alg)
    body = claims(
        issuer=issuer,
        client=client,
        user=user,
        scopes=scopes,
        now=now,
        auth_time=auth_time,
        nonce=nonce,
        access_token=access_token,
    )
    return encode(key, body)


def hint_claims(hint: str, keys: KeySet, issuer: str) -> dict[str, Any] | None:
    """The claims of an id_token_hint, if this issuer signed it; None otherwise.

    OIDC Core 3.1.2.1 and RP-Initiated Logout 1.0 section 2: the OP need not reject an
    expired ID token as a hint ("the ID Token need not be unexpired"), so only the
    signature and issuer are checked.
    """
    try:
        token = jwt.decode(hint, keys, algorithms=["ES256", "RS256"])
    except (JoseError, ValueError):
        return None
    if token.claims.get("iss") != issuer or str(token.header.get("typ", "JWT")).upper() != "JWT":
        return None  # another issuer's, or a JWT access token (typ at+jwt, RFC 9068 section 2.1)
    return dict(token.claims)


def audience_of_hint(hint: str, keys: KeySet, issuer: str) -> str | None:
    """The client an id_token_hint was issued to, if this issuer signed it."""
    claims = hint_claims(hint, keys, issuer)
    if claims is None:
        return None
    aud = claims.get("aud")
    if isinstance(aud, list):
        aud = aud[0] if len(aud) == 1 else None
    return aud if isinstance(aud, str) else None
