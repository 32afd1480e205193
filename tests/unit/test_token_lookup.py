"""protocol/token_lookup.py: finding a presented token, opaque or a JWT access token (RFC 6750
section 2, RFC 7009 section 2.1, RFC 7662 section 2.1, RFC 9068).

The opaque values are RFC 6749 section 5.1's example tokens, stored under their SHA-256
digest (computed here with hashlib).
"""

from __future__ import annotations

import pytest

from tessera.model import AccessToken, RefreshToken
from tessera.protocol import issuance, lifetimes, token_lookup
from tessera.storage.memory.tokens import MemoryTokenStore
from tests.unit.builders import ACCOUNT_ID, ISSUER, USER_ID
from tests.unit.memory_server import ACCESS_TOKEN, NOW, REFRESH_REQUEST, Server, rfc_client, server

pytestmark = pytest.mark.anyio

REFRESH_TOKEN = REFRESH_REQUEST["refresh_token"]


async def _seeded() -> Server:
    s = server()
    await s.add_refresh_token()  # section 5.1's access token and section 6's refresh token
    return s


# --- Opaque tokens -------------------------------------------------------------------------------


async def test_an_opaque_access_token_is_found_by_its_digest() -> None:
    s = await _seeded()
    found = await token_lookup.access_token(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, ACCESS_TOKEN)
    assert found is not None and found.token_prefix == ACCESS_TOKEN[:10] and found.user_id == USER_ID


async def test_find_tells_an_access_token_from_a_refresh_token() -> None:
    s = await _seeded()
    access = await token_lookup.find(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, ACCESS_TOKEN, None)
    assert access.access is not None and access.refresh is None
    refresh = await token_lookup.find(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, REFRESH_TOKEN, None)
    assert refresh.refresh is not None and refresh.access is None


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "unknown_hint"])
async def test_a_wrong_hint_still_finds_the_token(hint: str) -> None:
    """RFC 7009 section 2.1: the server "MUST extend its search across all of its supported token types"."""
    s = await _seeded()
    tokens, keys = s.stores.tokens, s.stores.keys
    assert (await token_lookup.find(tokens, keys, ACCOUNT_ID, ISSUER, ACCESS_TOKEN, hint)).access is not None
    assert (await token_lookup.find(tokens, keys, ACCOUNT_ID, ISSUER, REFRESH_TOKEN, hint)).refresh is not None


async def test_an_unknown_value_finds_nothing() -> None:
    s = await _seeded()
    found = await token_lookup.find(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, "2YotnFZFEjr1zCsicMWpAB", None)
    assert found == token_lookup.Found()


class _Recording(MemoryTokenStore):
    def __init__(self) -> None:
        super().__init__()
        self.looked: list[str] = []

    async def find_access(self, digest: bytes) -> AccessToken | None:
        self.looked.append("access")
        return await super().find_access(digest)

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        self.looked.append("refresh")
        return await super().find_refresh(digest)


@pytest.mark.parametrize(
    ("value", "hint", "order"),
    [
        ("2YotnFZFEjr1zCsicMWpAB", None, ["access", "refresh"]),
        ("2YotnFZFEjr1zCsicMWpAB", "refresh_token", ["refresh", "access"]),
        ("tsr_unknown", None, ["refresh", "access"]),  # the refresh prefix says what it is
    ],
)
async def test_the_hint_and_the_prefix_only_change_the_order_of_lookups(
    value: str, hint: str | None, order: list[str]
) -> None:
    tokens = _Recording()
    await token_lookup.find(tokens, server().stores.keys, ACCOUNT_ID, ISSUER, value, hint)
    assert tokens.looked == order


# --- JWT access tokens (RFC 9068) ----------------------------------------------------------------


async def _jwt(s: Server, *, signer_account: int = ACCOUNT_ID, issuer: str = ISSUER) -> str:
    client = rfc_client(access_token_format="jwt")
    minted = issuance.mint(
        account_id=ACCOUNT_ID,
        client=client,
        user_id=USER_ID,
        scopes=("read",),
        family="1" * 32,
        lifetimes=lifetimes.Lifetimes(access=600, refresh=604_800),
        now=NOW,
        with_refresh=False,
        jwt_key=await issuance.jwt_key_for(client, signer_account, issuer, s.stores.keys),
    )
    await s.stores.tokens.issue(minted.rows)
    return minted.access_token


async def test_a_jwt_access_token_is_found_through_its_jti() -> None:
    s = server()
    token = await _jwt(s)
    assert token.count(".") == 2
    found = await token_lookup.access_token(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, token)
    assert found is not None and found.expires_at == NOW + 600 and found.scopes == ("read",)
    via_find = await token_lookup.find(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, token, "refresh_token")
    assert via_find.access == found and via_find.refresh is None


async def test_a_jwt_signed_with_another_accounts_key_is_not_found() -> None:
    s = server()
    await s.stores.keys.signing_key(ACCOUNT_ID, "ES256")  # this account has keys of its own
    token = await _jwt(s, signer_account=ACCOUNT_ID + 1)
    assert await token_lookup.access_token(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, token) is None


async def test_a_jwt_of_another_issuer_or_tampered_with_is_not_found() -> None:
    s = server()
    other_issuer = await _jwt(s, issuer="https://other.tessera.example")
    assert await token_lookup.access_token(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, other_issuer) is None
    header, claims, signature = (await _jwt(s)).split(".")
    tampered = f"{header}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert await token_lookup.access_token(s.stores.tokens, s.stores.keys, ACCOUNT_ID, ISSUER, tampered) is None
