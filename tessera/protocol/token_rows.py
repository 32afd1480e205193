"""What issuing a token writes, and what a redemption or a rotation reports back: the
values that cross the TokenStore and CodeStore ports (ports.py re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class NewAccessToken:
    digest: bytes
    token_prefix: str
    account_id: int
    client_id: int
    user_id: int
    scopes: tuple[str, ...]
    family: str
    created_at: float
    expires_at: float | None
    # The resources the token is for (RFC 8707); empty: the account's API.
    audience: tuple[str, ...] = ()
    jkt: str | None = None  # RFC 9449 section 6: the DPoP key it is bound to; None: bearer


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    digest: bytes
    expires_at: float
    # The scopes the refresh token may ask for again: the original grant (RFC 6749 section 6),
    # which a refresh that narrows the access token's scopes must not lose. None: the
    # access token's scopes.
    scopes: tuple[str, ...] | None = None
    # Likewise the resources a later refresh may ask for (RFC 8707 section 2.2). None: the
    # access token's audience.
    audience: tuple[str, ...] | None = None
    jkt: str | None = None  # RFC 9449 section 5.1: bound to a public client's DPoP key


@dataclass(frozen=True, slots=True)
class TokenRows:
    """What one issuance writes: an access token and, maybe, its refresh token."""

    access: NewAccessToken
    refresh: NewRefreshToken | None


@dataclass(frozen=True, slots=True)
class NewCode:
    digest: bytes
    account_id: int
    client_id: int
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str
    family: str
    auth_time: float
    created_at: float
    expires_at: float
    audience: tuple[str, ...] = ()  # the resources asked for (RFC 8707); empty: the account's API
    dpop_jkt: str | None = None  # RFC 9449 section 10: the DPoP key that must redeem it


@dataclass(frozen=True, slots=True)
class Redeemed:
    """The outcome of CodeStore.redeem: the access token's id, or the code was already used."""

    access_token_id: int | None

    @property
    def reused(self) -> bool:
        return self.access_token_id is None


@dataclass(frozen=True, slots=True)
class Rotated:
    """TokenStore.rotate claimed the refresh token and wrote the new tokens."""

    access_token_id: int


@dataclass(frozen=True, slots=True)
class AlreadyUsed:
    """TokenStore.rotate found the refresh token used before: when, and the family it is of.

    The store only reports it; what a reuse means (refused, or theft that revokes the
    family) is decided by the refresh_token grant (protocol/grants/refresh_token.py).
    """

    used_at: float
    family: str


@dataclass(frozen=True, slots=True)
class RevokedMeanwhile:
    """TokenStore.rotate found the refresh token revoked (not used) when it came to claim it:
    a revocation of its family committed after the caller had read it live."""

    family: str


# The outcome of TokenStore.rotate.
Rotation: TypeAlias = Rotated | AlreadyUsed | RevokedMeanwhile
