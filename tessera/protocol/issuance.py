"""Minting tokens: RFC 6749 sections 4.1.4, 4.2.2, 4.3.3, 4.4.3, 5.1 and 6.

`mint` draws the secrets and builds the rows a store writes in one statement per token;
`token_response` renders what the client is told. The plaintext secrets live only in the
returned object and the response; the store sees digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.model import Client
from tessera.protocol import scopes as scope_rules
from tessera.protocol import secrets
from tessera.protocol.lifetimes import Lifetimes
from tessera.protocol.ports import NewAccessToken, NewRefreshToken, TokenRows


@dataclass(frozen=True, slots=True)
class Minted:
    access_token: str
    refresh_token: str | None
    rows: TokenRows
    expires_in: int | None
    refresh_expires_in: int | None
    scopes: tuple[str, ...]


def wants_refresh_token(client: Client, scopes: tuple[str, ...]) -> bool:
    """Refresh tokens go to clients allowed the refresh_token grant, or granted offline_access."""
    return "refresh_token" in client.grant_types or "offline_access" in scopes


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
) -> Minted:
    """`refresh_scopes`: what the refresh token may ask for later, when more than `scopes`."""
    access_token = secrets.new_secret(secrets.ACCESS_TOKEN_PREFIX)
    access = NewAccessToken(
        digest=secrets.digest(access_token),
        token_prefix=secrets.shown(access_token, secrets.TOKEN_SHOWN),
        account_id=account_id,
        client_id=client.id,
        user_id=user_id,
        scopes=scopes,
        family=family,
        created_at=now,
        expires_at=None if lifetimes.access is None else now + lifetimes.access,
    )
    refresh_token = None
    refresh = None
    if with_refresh:
        refresh_token = secrets.new_secret(secrets.REFRESH_TOKEN_PREFIX)
        refresh = NewRefreshToken(
            digest=secrets.digest(refresh_token), expires_at=now + lifetimes.refresh, scopes=refresh_scopes
        )
    return Minted(
        access_token=access_token,
        refresh_token=refresh_token,
        rows=TokenRows(access=access, refresh=refresh),
        expires_in=lifetimes.access,
        refresh_expires_in=lifetimes.refresh if with_refresh else None,
        scopes=scopes,
    )


def token_response(minted: Minted, **extra: Any) -> dict[str, Any]:
    """RFC 6749 section 5.1, plus Zendesk's refresh_token_expires_in."""
    body: dict[str, Any] = {
        "access_token": minted.access_token,
        "token_type": "bearer",
        "scope": scope_rules.format_scopes(minted.scopes),
    }
    if minted.expires_in is not None:
        body["expires_in"] = minted.expires_in
    if minted.refresh_token is not None:
        body["refresh_token"] = minted.refresh_token
        body["refresh_token_expires_in"] = minted.refresh_expires_in
    body.update(extra)
    return body
