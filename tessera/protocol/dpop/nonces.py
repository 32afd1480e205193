"""DPoP server nonces (RFC 9449 sections 8 and 9), stateless.

A nonce is an HMAC under a key derived from TESSERA_SECRET_KEY of a time slice, valid for
the current and the previous slice, so any node checks any node's nonce without storage.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from joserfc.util import urlsafe_b64encode

from tessera.protocol.errors import OAuthError

NONCE_PERIOD = 300  # seconds per nonce slice; a nonce lives one to two periods


class UseDpopNonce(OAuthError):
    """Section 8 / 9: the proof must carry the server nonce sent in the DPoP-Nonce header."""

    error = "use_dpop_nonce"

    def __init__(self, description: str, *, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce


@dataclass(frozen=True, slots=True)
class Nonces:
    """Stateless server nonces (section 8): HMAC-SHA256 of the slice number under a key
    derived from TESSERA_SECRET_KEY. `required`: every proof must carry one."""

    key: bytes
    required: bool
    period: int = NONCE_PERIOD

    @classmethod
    def from_secret(cls, secret_key: str, *, required: bool) -> Nonces:
        key = hmac.new(secret_key.encode("utf-8"), b"tessera dpop nonce", hashlib.sha256).digest()
        return cls(key=key, required=required)

    def _for_slice(self, slice_number: int) -> str:
        mac = hmac.new(self.key, slice_number.to_bytes(8, "big"), hashlib.sha256).digest()[:18]
        return urlsafe_b64encode(mac).decode("ascii")

    def current(self, now: float) -> str:
        return self._for_slice(int(now // self.period))

    def valid(self, nonce: str, now: float) -> bool:
        slice_number = int(now // self.period)
        given = nonce.encode("ascii", "replace")
        return any(
            hmac.compare_digest(given, self._for_slice(n).encode("ascii")) for n in (slice_number, slice_number - 1)
        )


def check_nonce(nonce: object, nonces: Nonces, now: float) -> None:
    """Sections 8 and 9: a nonce the server did not issue, or a missing one when required."""
    if nonce is None:
        if nonces.required:
            raise UseDpopNonce(
                "this server requires a nonce in DPoP proofs; sign the proof again with the DPoP-Nonce value sent",
                nonce=nonces.current(now),
            )
        return
    if not isinstance(nonce, str) or not nonces.valid(nonce, now):
        raise UseDpopNonce(
            "the DPoP proof's nonce is not current; sign the proof again with the DPoP-Nonce value sent",
            nonce=nonces.current(now),
        )
