"""tessera/protocol/secrets.py: RFC 6749 section 10.10, RFC 9700 section 4; INTERFACE.md section 3."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest

from tessera.protocol import secrets
from tests.unit.builders import SECRET, SECRET_SHA256_HEX, vector


def test_digest_is_sha256_fips_180_vector() -> None:
    """FIPS 180-2 Appendix B.1: SHA-256("abc"); secrets are stored under this digest."""
    fips = vector("fips180_sha256")
    assert secrets.digest(fips["message"]) == bytes.fromhex(fips["digest_hex"])


def test_digest_of_a_client_secret() -> None:
    """INTERFACE.md section 3: a secret is stored only as its SHA-256 hash."""
    assert secrets.digest(SECRET) == bytes.fromhex(SECRET_SHA256_HEX)


@pytest.mark.parametrize("prefix", ["tsa_", "tsr_", "tsc_", "tss_"])
def test_new_secret_has_prefix_and_256_random_bits(prefix: str) -> None:
    """RFC 6749 section 10.10 / INTERFACE.md section 3: a readable prefix and at least 256 random bits."""
    secret = secrets.new_secret(prefix)
    assert re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9_-]{43}", secret)
    assert len(base64.urlsafe_b64decode(secret[len(prefix) :] + "=")) == 32
    assert secrets.new_secret(prefix) != secret


@pytest.mark.parametrize("prefix", ["tsa_", "tsr_", "tsc_"])
def test_new_token_has_prefix_264_random_bits_then_the_issue_time(prefix: str) -> None:
    """INTERFACE.md section 3: at least 256 random bits behind the prefix; then the issue
    time in milliseconds, so that keys of new tokens sort after older ones."""
    token = secrets.new_token(prefix, 1_800_000_000.123)
    assert re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9_-]{52}", token)
    raw = base64.urlsafe_b64decode(token[len(prefix) :])
    assert len(raw) == 33 + 6
    assert int.from_bytes(raw[33:], "big") == 1_800_000_000_123
    assert secrets.new_token(prefix, 1_800_000_000.123) != token  # the random part differs
    assert token[: secrets.TOKEN_SHOWN] != secrets.new_token(prefix, 1_800_000_000.123)[: secrets.TOKEN_SHOWN]


def test_a_token_is_stored_under_its_issue_time_then_its_sha256() -> None:
    token = secrets.new_token("tsa_", 1_800_000_000.0)
    key = secrets.digest(token)
    assert key == (1_800_000_000_000).to_bytes(6, "big") + hashlib.sha256(token.encode()).digest()
    assert secrets.matches(token, key)


def test_keys_of_later_tokens_sort_after_earlier_ones() -> None:
    earlier = [secrets.digest(secrets.new_token("tsa_", 1_800_000_000.0 + i)) for i in range(50)]
    assert earlier == sorted(earlier)


def test_tokens_of_the_earlier_format_are_still_found_under_their_plain_digest() -> None:
    legacy = "tsa_" + "A" * 43
    assert secrets.digest(legacy) == hashlib.sha256(legacy.encode()).digest()


@pytest.mark.parametrize(
    "junk", ["tsa_" + "A" * 44 + "!!!!!!!!", "tsa_" + "A" * 44 + "é" * 8, "tsc_" + "A" * 44 + "A==A==A="]
)
def test_a_malformed_token_of_the_new_length_gets_a_key_that_matches_nothing(junk: str) -> None:
    key = secrets.digest(junk)
    assert key.endswith(hashlib.sha256(junk.encode()).digest())
    assert not secrets.matches(secrets.new_token("tsa_"), key)


def test_prefixes_are_the_documented_ones() -> None:
    """INTERFACE.md section 3: tsa_ access token, tsr_ refresh token, tsc_ code, tss_ client secret."""
    assert (
        secrets.ACCESS_TOKEN_PREFIX,
        secrets.REFRESH_TOKEN_PREFIX,
        secrets.CODE_PREFIX,
        secrets.CLIENT_SECRET_PREFIX,
    ) == ("tsa_", "tsr_", "tsc_", "tss_")


def test_matches_checks_against_the_stored_digest() -> None:
    """RFC 6749 section 2.3.1: the presented secret must be the one issued; no digest, no match."""
    stored = bytes.fromhex(SECRET_SHA256_HEX)
    assert secrets.matches(SECRET, stored) is True
    assert secrets.matches(SECRET + "x", stored) is False
    assert secrets.matches(SECRET[:-1], stored) is False
    assert secrets.matches(SECRET, None) is False


def test_shown_is_the_first_characters_only() -> None:
    """INTERFACE.md section 3: a secret is shown again only by its first 9 characters (tokens: 10)."""
    assert secrets.shown(SECRET, secrets.CLIENT_SECRET_SHOWN) == "tss_Wp3kJ"
    assert secrets.shown(SECRET, secrets.TOKEN_SHOWN) == "tss_Wp3kJx"


def test_families_are_unique_and_time_ordered() -> None:
    """A family identifier is 32 hex digits, unique per authorization, and a later family
    sorts after an earlier one (the index on families then grows at its end)."""
    family = secrets.new_family()
    assert re.fullmatch(r"[0-9a-f]{32}", family)
    time.sleep(0.002)
    later = [secrets.new_family() for _ in range(100)]
    assert len(set(later)) == 100
    assert all(other > family for other in later)
