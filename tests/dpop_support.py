"""A DPoP client for the tests (RFC 9449 section 4.2): a key and the proofs it signs.

Proofs are signed with joserfc from claims the test chooses, so each refusal test can
break exactly one thing (typ, alg, iat, htm, htu, ath, nonce, the key in the header).
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tessera.protocol import dpop


@dataclass
class DpopKey:
    alg: str = "ES256"
    key: ECKey | RSAKey | OKPKey = field(init=False)

    def __post_init__(self) -> None:
        if self.alg == "ES256":
            self.key = ECKey.generate_key("P-256")
        elif self.alg in ("RS256", "PS256"):
            self.key = RSAKey.generate_key(2048)
        else:
            self.key = OKPKey.generate_key("Ed25519")

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        htm: str,
        htu: str,
        iat: float,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
    ) -> str:
        body: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(iat)}
        if access_token is not None:
            body["ath"] = dpop.ath(access_token)
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims or {})
        protected: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk}
        protected.update(header or {})
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates EdDSA; clients still sign with it.
            warnings.simplefilter("ignore", SecurityWarning)
            return jwt.encode(protected, body, self.key, algorithms=[protected["alg"]])
