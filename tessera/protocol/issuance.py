"""Minting tokens: RFC 6749 sections 4.1.4, 4.2.2, 4.3.3, 4.4.3, 5.1 and 6.

`mint` draws the secrets and builds the rows a store writes in one statement per token;
`token_response` renders what the client is told. The plaintext secrets live only in the
returned object and the response; the store sees digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.model import Client
from tessera.protocol import jwt_access_tokens, resource_indicators, secrets
from tessera.protocol import lifetimes as lifetimes_module
from tessera.protocol import scopes as scope_rules
from tessera.protocol.lifetimes import Lifetimes
from tessera.protocol.ports import KeyRing, LoadedKey, NewAccessToken, NewRefreshToken, TokenRows

JwtKey = tuple[LoadedKey, str]


@dataclass(frozen=True, slots=True)
class Minted:
    access_token: str
    refresh_token: str | None
    rows: TokenRows
    expires_in: int | None
    refresh_expires_in: int | None
    scopes: tuple[str, ...]
    jkt: str | None = None  # RFC 9449: the DPoP key the access token is bound to


def wants_refresh_token(client: Client, scopes: tuple[str, ...]) -> bool:
    """Refresh tokens go to clients allowed the refresh_token grant, or granted offline_access."""
    return "refresh_token" in client.grant_types or "offline_access" in scopes


async def jwt_key_for(client: Client, account_id: int, issuer: str, keys: KeyRing) -> JwtKey | None:
    """What signs the client's access tokens when it chose JWTs (RFC 9068), else None."""
    if client.access_token_format != "jwt":
        return None
    return await keys.signing_key(account_id, client.signing_alg), issuer


def _access_token(
    client: Client,
    user_id: int,
    scopes: tuple[str, ...],
    now: float,
    expires_at: float | None,
    jwt_key: JwtKey | None,
    audience: tuple[str, ...],
    jkt: str | None,
) -> tuple[str, bytes]:
    """The token and the digest it is stored under: its own, or for a JWT its jti's."""
    if jwt_key is None:
        token = secrets.new_token(secrets.ACCESS_TOKEN_PREFIX, now)
        return token, secrets.digest(token)
    key, issuer = jwt_key
    jti = jwt_access_tokens.new_jti()
    token = jwt_access_tokens.encode(
        key,
        issuer=issuer,
        client=client,
        user_id=user_id,
        scopes=scopes,
        audience=resource_indicators.aud_claim(audience, issuer),
        jti=jti,
        now=now,
        expires_at=now + lifetimes_module.JWT_ACCESS_DEFAULT if expires_at is None else expires_at,
        jkt=jkt,
    )
    return token, secrets.digest(jti)


def mint(
    *,
    account_id: int,
    client: Client,
    user_id: int,
    scopes: tuple[str, ...],
    family: str,
    lifetimes: Lifetimes,
    now: float,
    with_refresh: bool,
    refresh_scopes: tuple[str, ...] | None = None,
    jwt_key: JwtKey | None = None,
    audience: tuple[str, ...] = (),
    refresh_audience: tuple[str, ...] | None = None,
    jkt: str | None = None,
) -> Minted:
    """`refresh_scopes`: what the refresh token may ask for later, when more than `scopes`.
    `jwt_key`: (key, issuer) for a client whose access tokens are JWTs. `audience`: the
    resources the token is for (RFC 8707; empty: the account's API), and
    `refresh_audience` what the refresh token may ask for later, when more."""
    access_lifetime = lifetimes.access
    if jwt_key is not None and access_lifetime is None:
        access_lifetime = lifetimes_module.JWT_ACCESS_DEFAULT  # a self-contained token must expire
    expires_at = None if access_lifetime is None else now + access_lifetime
    access_token, access_digest = _access_token(client, user_id, scopes, now, expires_at, jwt_key, audience, jkt)
    access = NewAccessToken(
        digest=access_digest,
        token_prefix=secrets.shown(access_token, secrets.TOKEN_SHOWN),
        account_id=account_id,
        client_id=client.id,
        user_id=user_id,
        scopes=scopes,
        family=family,
        created_at=now,
        expires_at=expires_at,
        audience=audience,
        jkt=jkt,
    )
    refresh_token = None
    refresh = None
    if with_refresh:
        refresh_token = secrets.new_token(secrets.REFRESH_TOKEN_PREFIX, now)
        refresh = NewRefreshToken(
            digest=secrets.digest(refresh_token),
            expires_at=now + lifetimes.refresh,
            scopes=refresh_scopes,
            audience=refresh_audience,
            jkt=jkt if client.kind == "public" else None,
        )
    return Minted(
        access_token=access_token,
        refresh_token=refresh_token,
        rows=TokenRows(access=access, refresh=refresh),
        expires_in=access_lifetime,
        refresh_expires_in=lifetimes.refresh if with_refresh else None,
        scopes=scopes,
        jkt=jkt,
    )


def token_response(minted: Minted, **extra: Any) -> dict[str, Any]:
    """RFC 6749 section 5.1, plus Zendesk's refresh_token_expires_in."""
    body: dict[str, Any] = {
        "access_token": minted.access_token,
        # RFC 9449 section 5: "token_type ... DPoP" for a bound token.
        "token_type": "bearer" if minted.jkt is None else "DPoP",
        "scope": scope_rules.format_scopes(minted.scopes),
    }
    if minted.expires_in is not None:
        body["expires_in"] = minted.expires_in
    if minted.refresh_token is not None:
        body["refresh_token"] = minted.refresh_token
        body["refresh_token_expires_in"] = minted.refresh_expires_in
    body.update(extra)
    return body
