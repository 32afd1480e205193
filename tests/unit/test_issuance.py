"""tessera/protocol/issuance.py: RFC 6749 sections 4.2.2, 5.1, 6 and 10.10; INTERFACE.md section 3 and
"Token endpoint" (opaque tokens; the JWT format of RFC 9068 is not covered here)."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import astuple

import pytest

from tessera.protocol import issuance
from tessera.protocol.issuance import Minted
from tessera.protocol.lifetimes import Lifetimes
from tessera.protocol.ports import NewAccessToken, NewRefreshToken, TokenRows
from tests.unit.builders import ACCOUNT_ID, USER_ID, make_client, vector

NOW = 1_000.0
FAMILY = "0123456789abcdef0123456789abcdef"
LIFETIMES = Lifetimes(access=1_800, refresh=2_592_000)
ACCESS_SHAPE = re.compile(r"tsa_[A-Za-z0-9_-]{52}")
REFRESH_SHAPE = re.compile(r"tsr_[A-Za-z0-9_-]{52}")


def _mint(*, with_refresh: bool, lifetimes: Lifetimes = LIFETIMES, **extra: object) -> Minted:
    return issuance.mint(
        account_id=ACCOUNT_ID,
        client=make_client(),
        user_id=USER_ID,
        scopes=("read", "write"),
        family=FAMILY,
        lifetimes=lifetimes,
        now=NOW,
        with_refresh=with_refresh,
        **extra,  # type: ignore[arg-type]
    )


def _sha256(text: str) -> bytes:
    """SHA-256 through hashlib, independent of tessera.protocol.secrets."""
    return hashlib.sha256(text.encode()).digest()


def _random_bytes(token: str, prefix: str) -> bytes:
    """The random part of a token: what follows the prefix, less the 6 bytes of issue time."""
    return base64.urlsafe_b64decode(token.removeprefix(prefix))[:-6]


# --- mint() ------------------------------------------------------------------------------------


def test_access_token_is_prefixed_and_carries_256_random_bits() -> None:
    """INTERFACE.md section 3 / RFC 6749 section 10.10: tsa_ and at least 256 random bits (264, then the issue time)."""
    minted = _mint(with_refresh=False)
    assert ACCESS_SHAPE.fullmatch(minted.access_token)
    assert len(_random_bytes(minted.access_token, "tsa_")) * 8 >= 256


def test_refresh_token_is_prefixed_and_carries_256_random_bits() -> None:
    """INTERFACE.md section 3 / RFC 6749 section 10.10: tsr_ and at least 256 bits."""
    minted = _mint(with_refresh=True)
    assert minted.refresh_token is not None
    assert REFRESH_SHAPE.fullmatch(minted.refresh_token)
    assert len(_random_bytes(minted.refresh_token, "tsr_")) * 8 >= 256


def test_every_mint_draws_fresh_secrets() -> None:
    """RFC 6749 section 10.10: tokens cannot be guessed from one another."""
    first, second = _mint(with_refresh=True), _mint(with_refresh=True)
    assert len({first.access_token, second.access_token, first.refresh_token, second.refresh_token}) == 4
    assert first.rows.access.digest != second.rows.access.digest


def test_rows_hold_digests_never_the_tokens() -> None:
    """INTERFACE.md section 3 / section 5: tokens are stored only as SHA-256 hashes, never in plaintext."""
    minted = _mint(with_refresh=True)
    assert minted.refresh_token is not None
    # The key is the SHA-256 digest led by the (not secret) issue time: secrets.digest.
    assert minted.rows.access.digest[6:] == _sha256(minted.access_token)
    assert minted.rows.refresh is not None
    assert minted.rows.refresh.digest[6:] == _sha256(minted.refresh_token)
    stored = repr(minted.rows) + repr(astuple(minted.rows.access)) + repr(astuple(minted.rows.refresh))
    assert minted.access_token not in stored
    assert minted.refresh_token not in stored
    assert minted.access_token[4:20] not in stored
    assert minted.refresh_token[4:] not in stored


def test_access_row_shows_only_the_first_ten_characters() -> None:
    """INTERFACE.md "Tokens API": `token` shows the first 10 characters only (tsa_ and 6 more)."""
    minted = _mint(with_refresh=False)
    assert minted.rows.access.token_prefix == minted.access_token[:10]
    assert len(minted.rows.access.token_prefix) == 10


def test_access_row_fields() -> None:
    """RFC 6749 section 5.1: the token is bound to client, user, scopes, and expires now + expires_in."""
    minted = _mint(with_refresh=False)
    assert minted.rows == TokenRows(
        access=NewAccessToken(
            digest=minted.rows.access.digest,
            token_prefix=minted.rows.access.token_prefix,
            account_id=ACCOUNT_ID,
            client_id=42,
            user_id=USER_ID,
            scopes=("read", "write"),
            family=FAMILY,
            created_at=1_000.0,
            expires_at=2_800.0,
        ),
        refresh=None,
    )
    assert (minted.expires_in, minted.refresh_token, minted.refresh_expires_in) == (1_800, None, None)


def test_refresh_only_when_asked() -> None:
    """RFC 6749 sections 4.2.2 and 4.4.3: implicit and client_credentials issue no refresh token."""
    minted = _mint(with_refresh=False)
    assert minted.refresh_token is None
    assert minted.rows.refresh is None
    assert minted.refresh_expires_in is None


def test_refresh_row_fields() -> None:
    """RFC 6749 section 6: the refresh token expires now + its lifetime and remembers the original scopes."""
    minted = _mint(with_refresh=True, refresh_scopes=("read", "write", "impersonate"))
    assert minted.rows.refresh is not None
    assert minted.rows.refresh == NewRefreshToken(
        digest=minted.rows.refresh.digest,
        expires_at=2_593_000.0,
        scopes=("read", "write", "impersonate"),
    )
    assert minted.refresh_expires_in == 2_592_000


def test_legacy_lifetime_never_expires() -> None:
    """INTERFACE.md section 3: a client may opt into Zendesk's legacy non-expiring tokens."""
    minted = _mint(with_refresh=False, lifetimes=Lifetimes(access=None, refresh=2_592_000))
    assert minted.rows.access.expires_at is None
    assert minted.expires_in is None


# --- token_response() ---------------------------------------------------------------------------


def test_token_response_has_the_rfc_5_1_members() -> None:
    """RFC 6749 section 5.1 (access_token, token_type, expires_in, refresh_token, scope) and Zendesk's
    refresh_token_expires_in; the member names are those of the RFC example response."""
    minted = _mint(with_refresh=True)
    body = issuance.token_response(minted)
    assert body == {
        "access_token": minted.access_token,
        "token_type": "bearer",
        "scope": "read write",
        "expires_in": 1_800,
        "refresh_token": minted.refresh_token,
        "refresh_token_expires_in": 2_592_000,
    }
    rfc_members = set(vector("rfc6749_examples")["token_response"]["body"]) - {"example_parameter"}
    assert rfc_members <= set(body)


def test_token_response_without_refresh_token() -> None:
    """RFC 6749 section 4.4.3: "A refresh token SHOULD NOT be included" (client_credentials, implicit)."""
    body = issuance.token_response(_mint(with_refresh=False))
    assert set(body) == {"access_token", "token_type", "scope", "expires_in"}


def test_token_response_of_a_legacy_token_has_no_expires_in() -> None:
    """INTERFACE.md "Token endpoint": `expires_in` unless the client has legacy non-expiring tokens."""
    body = issuance.token_response(_mint(with_refresh=False, lifetimes=Lifetimes(access=None, refresh=2_592_000)))
    assert "expires_in" not in body
    assert body["token_type"] == "bearer"


def test_token_response_extra_members() -> None:
    """OIDC Core 3.1.3.3: an id_token is added to the RFC 6749 section 5.1 response when openid was granted."""
    body = issuance.token_response(_mint(with_refresh=False), id_token="eyJ.x.y")
    assert body["id_token"] == "eyJ.x.y"


# --- wants_refresh_token() -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant_types", "scopes", "expected"),
    [
        ({"authorization_code", "refresh_token"}, ("read",), True),
        ({"authorization_code"}, ("read",), False),
        ({"authorization_code"}, ("openid", "offline_access"), True),
        ({"client_credentials"}, ("read",), False),
    ],
)
def test_wants_refresh_token(grant_types: set[str], scopes: tuple[str, ...], expected: bool) -> None:
    """INTERFACE.md "Token endpoint": refresh_token* when the client may use the refresh_token grant;
    OIDC Core 11: offline_access asks for one."""
    client = make_client(grant_types=frozenset(grant_types))
    assert issuance.wants_refresh_token(client, scopes) is expected
