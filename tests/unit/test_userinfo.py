"""tessera/protocol/userinfo.py's respond: the UserInfo endpoint's steps without HTTP, OpenID
Connect Core 1.0 sections 5.3 and 5.4, with the errors of RFC 6750 section 3.1.

Stores are small in-memory fakes of protocol/ports.py's TokenStore, KeyRing and UserStore.
"""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import KeySet

from tessera.model import AccessToken, RefreshToken, User
from tessera.protocol import secrets, userinfo
from tessera.protocol.errors import InsufficientScope, InvalidToken
from tessera.protocol.ports import LoadedKey, Rotation, TokenRows
from tests.unit.builders import ACCOUNT_ID, ISSUER, OTHER_ACCOUNT_ID, USER_ID, make_token

pytestmark = pytest.mark.anyio

VALUE = "tsa_userinfo-unit-test-token"
NOW = 2_000.0  # make_token's tokens live from 1000 to 2800


class Tokens:
    """TokenStore: access tokens by the digest of their value."""

    def __init__(self, **by_value: AccessToken) -> None:
        self.access = {secrets.digest(value): token for value, token in by_value.items()}

    async def find_access(self, digest: bytes) -> AccessToken | None:
        return self.access.get(digest)

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        return None

    # UserInfo only reads: every write fails the test.
    async def issue(self, tokens: TokenRows) -> int:
        raise AssertionError("userinfo never writes")

    async def rotate(self, refresh_id: int, now: float, grace: float, tokens: TokenRows) -> Rotation:
        raise AssertionError("userinfo never writes")

    async def revoke_family(self, family: str, now: float) -> None:
        raise AssertionError("userinfo never writes")

    async def revoke_access(self, token_id: int, now: float) -> None:
        raise AssertionError("userinfo never writes")

    async def touch(self, token_id: int, now: float) -> None:
        raise AssertionError("userinfo never writes")


class Keys:
    """KeyRing without keys: these tests present opaque tokens only."""

    async def signing_key(self, account_id: int, alg: str) -> LoadedKey:
        raise AssertionError("userinfo never signs")

    async def published(self, account_id: int) -> KeySet:
        return KeySet([])


class Users:
    def __init__(self, *users: User) -> None:
        self.users = {(u.account_id, u.id): u for u in users}

    async def get(self, account_id: int, user_id: int) -> User | None:
        return self.users.get((account_id, user_id))

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        return None


EVE = User(
    id=USER_ID,
    account_id=ACCOUNT_ID,
    email="eve@example.com",
    name="Eve User",
    role="end-user",
    password_hash="$argon2id$unused",
    created_at=1_000.0,
    updated_at=1_234.9,
)


async def _respond(token: AccessToken | None, users: Users | None = None, value: str = VALUE) -> dict[str, Any]:
    tokens = Tokens() if token is None else Tokens(**{VALUE: token})
    return await userinfo.respond(value, ACCOUNT_ID, ISSUER, NOW, tokens=tokens, keys=Keys(), users=users or Users(EVE))


async def test_openid_token_answers_sub() -> None:
    """Section 5.3.2: sub is always returned."""
    assert await _respond(make_token(scopes=("openid",))) == {"sub": str(USER_ID)}


async def test_profile_and_email_claims() -> None:
    """Section 5.4: profile and email release their claims."""
    body = await _respond(make_token(scopes=("openid", "profile", "email")))
    assert body == {
        "sub": "3",
        "name": "Eve User",
        "preferred_username": "eve@example.com",
        "updated_at": 1234,
        "email": "eve@example.com",
        "email_verified": False,
    }


async def test_address_and_phone_release_nothing_tessera_does_not_keep() -> None:
    """Section 5.4 and INTERFACE.md "Scopes": address and phone release the claims a user has;
    Tessera keeps neither, and section 5.3.2 says claims without a value "SHOULD be omitted"."""
    assert await _respond(make_token(scopes=("openid", "address", "phone"))) == {"sub": "3"}


async def test_unknown_token_is_invalid_token() -> None:
    """RFC 6750 section 3.1 invalid_token: the token was never issued."""
    with pytest.raises(InvalidToken, match="never issued"):
        await _respond(None)


async def test_token_without_openid_is_insufficient_scope() -> None:
    """Section 5.3: the token must come from an OpenID Connect request (scope openid)."""
    with pytest.raises(InsufficientScope) as caught:
        await _respond(make_token(scopes=("read", "profile")))
    assert caught.value.scope == "openid"


async def test_expired_token_is_invalid_token() -> None:
    with pytest.raises(InvalidToken, match="expired"):
        await _respond(make_token(scopes=("openid",), expires_at=NOW))


async def test_revoked_token_is_invalid_token() -> None:
    with pytest.raises(InvalidToken, match="revoked"):
        await _respond(make_token(scopes=("openid",), revoked_at=1_500.0))


async def test_token_of_another_account_is_invalid_token() -> None:
    with pytest.raises(InvalidToken, match="another account"):
        await _respond(make_token(scopes=("openid",), account_id=OTHER_ACCOUNT_ID))


async def test_verification_comes_before_the_scope_check() -> None:
    """An expired token without openid is invalid_token, not insufficient_scope: a client
    must not be told to ask for a scope when its token is dead anyway."""
    with pytest.raises(InvalidToken):
        await _respond(make_token(scopes=("read",), expires_at=NOW))


async def test_user_that_no_longer_exists_is_invalid_token() -> None:
    with pytest.raises(InvalidToken, match="no longer exists"):
        await _respond(make_token(scopes=("openid",)), users=Users())
