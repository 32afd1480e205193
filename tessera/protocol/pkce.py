"""PKCE: RFC 7636 sections 4.1-4.6, and RFC 9700 section 2.1.1 (downgrade attacks).

Only S256 is accepted. RFC 7636 section 4.2 lets a client use "plain" when it cannot do
S256; every client Tessera serves can, and RFC 9700 section 2.1.1 says plain "SHOULD NOT"
be used, so Tessera refuses it for every client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from tessera.protocol.errors import InvalidGrant, InvalidRequest

S256 = "S256"
# RFC 7636 section 4.1: code_verifier = 43*128unreserved; section 4.2 gives the challenge
# the same alphabet, and an S256 challenge is exactly 43 characters.
# fullmatch, never `$`: `$` also matches before a trailing newline.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def parse_challenge(challenge: str | None, method: str | None, *, required: bool) -> str:
    """Validate the authorization request's PKCE parameters; return the challenge or ""."""
    if method is not None and method != S256:
        raise InvalidRequest(
            f"code_challenge_method {method!r} is not supported: use S256 (plain is refused, RFC 9700 section 2.1.1)"
        )
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method was sent without code_challenge")
        if required:
            raise InvalidRequest(
                "PKCE is required of public clients and of clients that registered themselves: send code_challenge "
                "(BASE64URL(SHA256(code_verifier))) and code_challenge_method=S256"
            )
        return ""
    if method is None:
        # RFC 7636 section 4.3: an absent method means plain, which Tessera refuses.
        raise InvalidRequest("code_challenge_method is missing, which means plain; send code_challenge_method=S256")
    if not _S256_CHALLENGE.fullmatch(challenge):
        raise InvalidRequest(
            "code_challenge must be 43 base64url characters: BASE64URL(SHA256(code_verifier)) without padding"
        )
    return challenge


def verify(verifier: str | None, challenge: str) -> None:
    """RFC 7636 section 4.6, with RFC 9700 section 2.1.1's downgrade rule."""
    if not challenge:
        if verifier is not None:
            # A verifier for a code issued without a challenge is the downgrade attack of
            # RFC 9700 section 2.1.1: the server MUST refuse it.
            raise InvalidGrant("code_verifier was sent, but the authorization request carried no code_challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required: the authorization request carried a code_challenge")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 section 4.1)")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge of the authorization request")
