"""Issued secrets: RFC 6749 section 10.10 (credential guessing), RFC 9700 section 4.

Codes, tokens and client secrets carry 256 random bits behind a readable prefix so that
secret scanners can find leaks (INTERFACE.md section 3). Only their SHA-256 digest is
stored: a server-generated 256-bit secret cannot be brute-forced, so a slow hash would
buy nothing and cost the hot path (DESIGN.md, style rule 7).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from typing import Final

ACCESS_TOKEN_PREFIX: Final = "tsa_"
REFRESH_TOKEN_PREFIX: Final = "tsr_"
CODE_PREFIX: Final = "tsc_"
CLIENT_SECRET_PREFIX: Final = "tss_"
# Dynamic client registration (RFC 7591 section 3, RFC 7592 section 3).
INITIAL_ACCESS_TOKEN_PREFIX: Final = "tsi_"
REGISTRATION_ACCESS_TOKEN_PREFIX: Final = "tsg_"

# How much of a secret may be shown again after issue: the prefix and a few characters,
# enough to recognise it, far too little to use it.
CLIENT_SECRET_SHOWN: Final = 9
TOKEN_SHOWN: Final = 10


# Tokens and codes end with the time they were issued, which leads the key they are stored
# under (see digest): 33 random bytes then 6 bytes of milliseconds, 52 base64url characters.
_ISSUED_PREFIXES: Final = (ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, CODE_PREFIX)
_RANDOM_BYTES: Final = 33
_TIME_BYTES: Final = 6
_TIME_CHARS: Final = 8  # 6 bytes are exactly 8 base64 characters, after 33 bytes' 44
ISSUED_LENGTH: Final = 4 + 52
_TO_STANDARD_BASE64: Final = bytes.maketrans(b"-_", b"+/")  # a2b_base64 is 3x urlsafe_b64decode's speed


def new_secret(prefix: str) -> str:
    """A fresh secret: the prefix and 43 base64url characters (32 random bytes). Client
    secrets and session cookies; tokens and codes are new_token's."""
    return prefix + _random.token_urlsafe(32)


def new_token(prefix: str, now: float | None = None) -> str:
    """A fresh access token, refresh token or code: the prefix, 264 random bits, then the
    time of issue in milliseconds, base64url (52 characters).

    Why the time: tokens are found by their stored key, and a key that starts with the
    time makes every new row land at the end of the unique index. Purely random keys put
    each new token on its own index page, and every page a commit touches is written to the
    WAL and copied back by the checkpoint: with ten million tokens stored, that made tokens
    slower and their p99 six times worse (docs/benchmarks.md). The time is not secret;
    the 264 random bits are what cannot be guessed. The first characters, which the Tokens
    API shows, stay random.
    """
    issued = int((time.time() if now is None else now) * 1000)
    raw = _random.token_bytes(_RANDOM_BYTES) + issued.to_bytes(_TIME_BYTES, "big")
    return prefix + base64.urlsafe_b64encode(raw).decode("ascii")


def digest(secret: str) -> bytes:
    """The key under which a secret is stored and looked up: its SHA-256 digest, led for
    a token or code of new_token's format by the 6 bytes of its issue time (a token of the
    earlier format, 43 random characters, is found under its plain digest)."""
    hashed = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
    if len(secret) == ISSUED_LENGTH and secret.startswith(_ISSUED_PREFIXES):
        try:
            issued = binascii.a2b_base64(secret[-_TIME_CHARS:].encode("ascii").translate(_TO_STANDARD_BASE64))
        except ValueError:  # not base64url: no such token was issued, and none is found
            return hashed
        return issued + hashed
    return hashed


def matches(secret: str, stored_digest: bytes | None) -> bool:
    """Constant-time check of a presented secret against a stored digest."""
    if stored_digest is None:
        return False
    return hmac.compare_digest(digest(secret), stored_digest)


def new_family() -> str:
    """An opaque identifier shared by every token descended from one authorization.

    32 hex digits: the time in milliseconds (48 bits), then 80 random bits. Leading with
    the time keeps the index on families appending at its end; random identifiers put each
    new token on a different index page, and every page a commit touches is written to the
    WAL again (measured: a fifth of a token's bytes written, docs/benchmarks.md).
    Families are never secrets: a token's digest is what grants access.
    """
    return f"{time.time_ns() // 1_000_000:012x}{_random.token_hex(10)}"


def shown(secret: str, length: int) -> str:
    return secret[:length]
