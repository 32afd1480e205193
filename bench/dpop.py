"""DPoP for the benchmark (RFC 9449): a client key, a DPoP-bound token, and proofs signed
beforehand, one per request, so that only the server's CPU is in the figure.

The proofs carry the time they were signed; the server accepts them for 60 seconds
(protocol/dpop.WINDOW), so they are signed just before the scenario runs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as random
import time
from pathlib import Path

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

ME = "/api/v2/users/me"
TOKEN = "/oauth/tokens"


def proof(key: ECKey, method: str, htu: str, token: str | None = None, now: float | None = None) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims: dict[str, object] = {
        "jti": random.token_urlsafe(12),
        "htm": method,
        "htu": htu,
        "iat": int(time.time() if now is None else now),
    }
    if token is not None:
        claims["ath"] = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()
    return jwt.encode(header, claims, key)


def proofs(key: ECKey, htu: str, token: str, count: int) -> list[str]:
    """`count` proofs for GET htu with the token's ath, each with its own jti."""
    now = time.time()
    return [proof(key, "GET", htu, token, now) for _ in range(count)]


def bound_token(base: str, issuer: str, headers: dict[str, str], body: str, key: ECKey) -> str:
    """A client_credentials token bound to `key` (token_type DPoP)."""
    answer = httpx.post(
        base + TOKEN, headers={**headers, "DPoP": proof(key, "POST", issuer + TOKEN)}, content=body, timeout=30
    )
    answer.raise_for_status()
    assert answer.json()["token_type"] == "DPoP", answer.text
    return str(answer.json()["access_token"])


def write_credentials(path: Path, token: str, signed: list[str]) -> None:
    """One line per request for bench/wrk.py: the token, then that request's proof."""
    path.write_text("".join(f"{token} {p}\n" for p in signed))
