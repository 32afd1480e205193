"""Issued secrets: RFC 6749 section 10.10 (credential guessing), RFC 9700 section 4.

Codes, tokens and client secrets carry 256 random bits behind a readable prefix so that
secret scanners can find leaks (INTERFACE.md section 3). Only their SHA-256 digest is
stored: a server-generated 256-bit secret cannot be brute-forced, so a slow hash would
buy nothing and cost the hot path (DESIGN.md, style rule 7).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random
import time
from typing import Final

ACCESS_TOKEN_PREFIX: Final = "tsa_"
REFRESH_TOKEN_PREFIX: Final = "tsr_"
CODE_PREFIX: Final = "tsc_"
CLIENT_SECRET_PREFIX: Final = "tss_"

# How much of a secret may be shown again after issue: the prefix and a few characters,
# enough to recognise it, far too little to use it.
CLIENT_SECRET_SHOWN: Final = 9
TOKEN_SHOWN: Final = 10


def new_secret(prefix: str) -> str:
    """A fresh secret: the prefix and 43 base64url characters (32 random bytes)."""
    return prefix + _random.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """The SHA-256 digest under which a secret is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


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
