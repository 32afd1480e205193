"""DPoP at a resource (RFC 9449 section 7): `Authorization: DPoP TOKEN` with a proof that
carries the token's hash and is signed by the key the token is bound to, and the
WWW-Authenticate challenge of the DPoP scheme."""

from __future__ import annotations

import hmac
import re
from typing import ClassVar

from tessera.model import AccessToken
from tessera.protocol.dpop.nonces import UseDpopNonce
from tessera.protocol.dpop.proof_header import ALGORITHMS, InvalidDpopProof
from tessera.protocol.dpop.proofs import Proof, ProofCheck, verified
from tessera.protocol.errors import InsufficientScope, InvalidToken, OAuthError

SCHEME = "DPoP"
_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def token_from_header(authorization: str) -> str:
    """Section 7.1: `Authorization: DPoP TOKEN` (token68 syntax, as RFC 6750's b64token)."""
    token = authorization[5:].strip()
    if not token or not _TOKEN68.match(token):
        raise InvalidToken("the DPoP access token is empty or malformed; send 'Authorization: DPoP TOKEN'")
    return token


def bound_token_as_bearer() -> InvalidToken:
    """Section 7.2: a bound token presented as a bearer token is refused."""
    return InvalidToken(
        "this access token is bound to a DPoP key: send it as 'Authorization: DPoP TOKEN' with a DPoP proof "
        "header signed by that key (RFC 9449 section 7)"
    )


async def verify_for_token(request: ProofCheck, token: AccessToken, token_value: str, now: float) -> Proof:
    """Section 7.1: the proof for a request presenting a DPoP-bound token: it carries the
    token's ath and is signed by the key the token is bound to (section 6, the jkt)."""
    if token.jkt is None:
        raise InvalidToken("this access token is not bound to a DPoP key; send it as 'Authorization: Bearer TOKEN'")
    if request.proof is None:
        raise InvalidDpopProof("a DPoP access token needs a DPoP proof header for this request (RFC 9449 section 7)")
    proof = await verified(request, request.proof, now, token_value)
    if not hmac.compare_digest(proof.jkt, token.jkt):
        raise InvalidDpopProof("the DPoP proof is signed by another key than the one this access token is bound to")
    return proof


def challenge(error: OAuthError | None) -> str:
    """Section 7.1: the WWW-Authenticate challenge of the DPoP scheme, with the algorithms;
    for insufficient_scope the scope needed, as the Bearer challenge names it (RFC 6750
    section 3, which section 7.1 follows for error codes)."""
    parts = [f'{SCHEME} algs="{" ".join(ALGORITHMS)}"']
    if error is not None:
        parts.append(f'error="{error.error}"')
        parts.append(f'error_description="{error.description}"')
        if isinstance(error, InsufficientScope):
            parts.append(f'scope="{error.scope}"')
    return ", ".join(parts)


class DpopRefused(Exception):
    """A refusal at a resource answered with a DPoP challenge (section 7.1): the OAuth error,
    and the nonce to send in DPoP-Nonce when the error is use_dpop_nonce."""

    status_by_error: ClassVar[dict[str, int]] = {"insufficient_scope": 403, "invalid_request": 400}

    def __init__(self, error: OAuthError) -> None:
        super().__init__(error.description)
        self.error = error
        self.nonce = error.nonce if isinstance(error, UseDpopNonce) else None

    @property
    def status(self) -> int:
        return self.status_by_error.get(self.error.error, 401)
