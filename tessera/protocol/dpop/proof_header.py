"""A DPoP proof's protected header and key (RFC 9449 section 4.3 items 1-6, RFC 7518 section
3, RFC 7638): one compact JWS; `typ` `dpop+jwt`; an asymmetric `alg` of ALGORITHMS; no
critical extensions; a `jwk` that is a public key only, of the kind the `alg` names; and
its RFC 7638 thumbprint, the `jkt` tokens are bound to. Read once per key and remembered:
the rest of a proof's checks, proofs.py's, run on every proof.
"""

from __future__ import annotations

import binascii
import json
import warnings
from typing import TYPE_CHECKING, Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key
from joserfc.jws import JWSRegistry
from joserfc.util import urlsafe_b64decode

from tessera.protocol.errors import OAuthError, echo

if TYPE_CHECKING:
    from joserfc._rfc7515.model import JWSAlgModel  # joserfc.jws uses it without exporting it

TYP = "dpop+jwt"
# Section 4.2: "MUST NOT be none or an identifier for a symmetric algorithm". Ed25519 is
# RFC 9864's name for what was EdDSA, which RFC 9864 deprecates (joserfc warns about it) but
# which many JOSE libraries still write for an Ed25519 key: accepted too, as for client
# assertions. Discovery advertises these (dpop_signing_alg_values_supported).
ALGORITHMS = ("ES256", "PS256", "RS256", "Ed25519", "EdDSA")
_DEPRECATED = "EdDSA"
MIN_RSA_BITS = 2048

# joserfc's default limit on a JWS header (512 bytes) is below an RSA key's jwk header.
REGISTRY = JWSRegistry(algorithms=list(ALGORITHMS))
REGISTRY.max_header_length = 4096
REGISTRY.max_payload_length = 4096


class InvalidDpopProof(OAuthError):
    """Section 5 / 7.1: the proof is missing where required, malformed or does not match."""

    error = "invalid_dpop_proof"


# A client signs every proof with one key, so the protected header (typ, alg, jwk) repeats:
# its checks, the key's import and its thumbprint are remembered by the header's encoded
# form. Only headers that passed are kept; a pure function of the bytes, so no node needs
# another's entries. Bounded: emptied when full.
_HEADERS: dict[str, tuple[dict[str, Any], ECKey | RSAKey | OKPKey, str]] = {}
_MAX_HEADERS = 4096


def header_and_key(proof: str, segment: str) -> tuple[dict[str, Any], ECKey | RSAKey | OKPKey, str]:
    """The proof's checked header, its key and the key's RFC 7638 thumbprint (the jkt);
    `segment` is the proof's first part, the encoded header."""
    known = _HEADERS.get(segment)
    if known is not None:
        return known
    read = _read_header(proof)
    if len(_HEADERS) >= _MAX_HEADERS:
        _HEADERS.clear()
    _HEADERS[segment] = read
    return read


def _read_header(proof: str) -> tuple[dict[str, Any], ECKey | RSAKey | OKPKey, str]:
    try:
        header = jws.extract_compact(proof.encode("ascii"), registry=REGISTRY).headers()
    except (JoseError, ValueError, UnicodeError):
        raise InvalidDpopProof("the DPoP header is not a compact JWS (a signed JWT: three base64url parts)") from None
    if header.get("typ") != TYP:
        raise InvalidDpopProof(f"the DPoP proof's typ must be {TYP!r} (RFC 9449 section 4.2)")
    if header.get("alg") not in ALGORITHMS:
        raise InvalidDpopProof(
            f"the DPoP proof's alg {echo(str(header.get('alg')))} is not accepted; use one of {', '.join(ALGORITHMS)}"
        )
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise InvalidDpopProof("the DPoP proof's header must carry the public key as jwk (RFC 9449 section 4.2)")
    if "crit" in header:
        # RFC 7515 section 4.1.11: a JWS whose critical extensions the recipient does not
        # understand is invalid, and a DPoP proof needs none.
        raise InvalidDpopProof(
            f"the DPoP proof's header marks {echo(json.dumps(header['crit']), 80)} as critical (crit); "
            "this server supports no JWS extensions: sign the proof without crit"
        )
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise InvalidDpopProof("the DPoP proof's jwk holds private key material; send the public key only")
    _rsa_bits(jwk)
    try:
        key = import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidDpopProof("the DPoP proof's jwk is not a valid public key") from None
    if not isinstance(key, ECKey | RSAKey | OKPKey):
        raise InvalidDpopProof("the DPoP proof's jwk must be an asymmetric (EC, RSA or OKP) public key")
    _fits(key, header["alg"])
    return header, key, key.thumbprint()


def algorithm(name: str) -> JWSAlgModel:
    """joserfc's algorithm `name`, without the warning it gives each time for EdDSA."""
    if name != _DEPRECATED:
        return REGISTRY.get_alg(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return REGISTRY.get_alg(name)


def _fits(key: ECKey | RSAKey | OKPKey, alg: str) -> None:
    """The key is of the kind `alg` names (RFC 7518 section 3, RFC 9864): ES256 a P-256 key,
    Ed25519 an Ed25519 key, RS256 and PS256 an RSA key of 2048 bits or more (section 3.3:
    "MUST", checked before the import by _rsa_bits). joserfc's check; without it a P-384 key
    passed as ES256, and an RSA key under ES256 reached the verification, which failed with
    a 500."""
    try:
        algorithm(alg).check_key(key)
    except JoseError as problem:
        raise InvalidDpopProof(
            f"the DPoP proof's jwk does not fit its alg {alg} ({problem.description or problem.error}); "
            f"sign with a key of the kind {alg} names"
        ) from None


def _rsa_bits(jwk: dict[str, Any]) -> None:
    """An RSA jwk under MIN_RSA_BITS refused before joserfc imports it (which warns about it)."""
    modulus = jwk.get("n")
    if jwk.get("kty") != "RSA" or not isinstance(modulus, str):
        return  # not RSA, or not a key at all: import_key says which
    try:
        bits = int.from_bytes(urlsafe_b64decode(modulus.encode("ascii")), "big").bit_length()
    except (ValueError, UnicodeError, binascii.Error):
        return
    if bits < MIN_RSA_BITS:
        raise InvalidDpopProof(
            f"the DPoP proof's RSA key has {bits} bits; use one of {MIN_RSA_BITS} bits or more (RFC 7518 section 3.3)"
        )
