"""DPoP, RFC 9449: tokens bound to a key the client proves it holds (docs/dpop.md).

Five parts: proofs.py verifies a proof (section 4.3) and claims its `jti` (section 11.1),
and binds tokens at the token endpoint (section 5), with proof_header.py reading the
proof's header and key (once per key); nonces.py issues and checks the
server's stateless nonces (sections 8 and 9); resource.py reads `Authorization: DPoP` at
a resource and answers with the DPoP challenge (section 7); batch.py runs the proof checks
of one turn of the event loop one after the other, for the CPU cache. Callers use the
names below.
"""

from tessera.protocol.dpop.nonces import NONCE_PERIOD, Nonces, UseDpopNonce
from tessera.protocol.dpop.proof_header import ALGORITHMS, TYP, InvalidDpopProof
from tessera.protocol.dpop.proofs import (
    MAX_PROOF,
    USED_ONCE_KIND,
    WINDOW,
    Proof,
    ProofCheck,
    at_token_endpoint,
    ath,
    check,
    claim,
    nonce_before_assertion,
    normalise_htu,
    verify,
)
from tessera.protocol.dpop.resource import (
    SCHEME,
    DpopRefused,
    bound_token_as_bearer,
    challenge,
    token_from_header,
    verify_for_token,
)

__all__ = [
    "ALGORITHMS",
    "MAX_PROOF",
    "NONCE_PERIOD",
    "SCHEME",
    "TYP",
    "USED_ONCE_KIND",
    "WINDOW",
    "DpopRefused",
    "InvalidDpopProof",
    "Nonces",
    "Proof",
    "ProofCheck",
    "UseDpopNonce",
    "at_token_endpoint",
    "ath",
    "bound_token_as_bearer",
    "challenge",
    "check",
    "claim",
    "nonce_before_assertion",
    "normalise_htu",
    "token_from_header",
    "verify",
    "verify_for_token",
]
