"""DPoP proofs: RFC 9449 sections 4.2, 4.3, 5 and 11.1; RFC 7638 thumbprints.

A client proves that it holds a private key by signing a short JWT (the proof) for each
request: the HTTP method (`htm`) and URL (`htu`), a time (`iat`), a unique `jti` and, at a
resource, the hash of the access token (`ath`). The token endpoint binds the tokens it
issues to the key's RFC 7638 thumbprint (`jkt`); the API then accepts such a token only
with a fresh proof signed by that key. Every JOSE operation is joserfc's.

What a proof must satisfy (section 4.3, in the order checked): one compact JWS; `typ`
`dpop+jwt`; an asymmetric `alg` of ALGORITHMS; a `jwk` header holding a public key only;
a signature that verifies with that key; `jti`, `htm`, `htu` and `iat` present; `htm` the
request's method; `htu` the request's URL without query and fragment, built from the
issuer (never from the raw Host header); `iat` within WINDOW seconds of now either way;
`ath` the hash of the token presented with it; a server nonce when nonces are required
(TESSERA_DPOP_NONCE); and the `jti` not seen before (section 11.1), claimed in the
UsedOnceStore so that the refusal holds across nodes. Nonces are nonces.py's; the check
at a resource (section 7), resource.py's; the header and its key, proof_header.py's.
"""

from __future__ import annotations

import binascii
import hashlib
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from tessera.model import Client
from tessera.protocol.dpop.batch import PROOFS
from tessera.protocol.dpop.nonces import Nonces, check_nonce
from tessera.protocol.dpop.proof_header import InvalidDpopProof, algorithm, header_and_key
from tessera.protocol.errors import InvalidRequest, echo
from tessera.protocol.ports import UsedOnceStore

WINDOW = 60  # seconds: iat may be this far in the past or the future (section 11.1)
USED_ONCE_KIND = "dpop"
MAX_PROOF = 8192  # bytes; an RSA-4096 proof is under 2,000


@dataclass(frozen=True, slots=True)
class Proof:
    jkt: str  # RFC 7638 SHA-256 thumbprint of the proof's key, base64url
    jti: str
    iat: int


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """What the web layer knows about a request that may carry a proof."""

    proof: str | None  # the DPoP header, None when absent
    method: str
    url: str  # the request's URL built from the issuer: issuer + path
    used_once: UsedOnceStore
    nonces: Nonces


def ath(access_token: str) -> str:
    """Section 4.2: "The value MUST be the result of a base64url encoding ... of the SHA-256
    hash of the ASCII encoding of the associated access token's value"."""
    return urlsafe_b64encode(hashlib.sha256(access_token.encode("ascii", "replace")).digest()).decode("ascii")


def normalise_htu(value: str) -> str:
    """Section 4.3 item 9: compare htu "without query and fragment parts", after the
    normalisation of RFC 3986 section 6.2.2 and 6.2.3 (case of scheme and host, default port)."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def _htu_of(value: str) -> str | None:
    """The proof's htu normalised, None when it is not a URL at all, or names a user (RFC
    3986 section 6.2.2 keeps userinfo, so a URL with one is another URL than the server's;
    normalise_htu, which reads hostname and port only, would have dropped it)."""
    try:
        if urlsplit(value).netloc.rpartition("@")[1]:
            return None
        return normalise_htu(value)
    except ValueError:  # a malformed host or port
        return None


def _claims(signing_input: str, signature: str, key: ECKey | RSAKey | OKPKey, alg: str) -> dict[str, Any]:
    """Section 4.3 items 7-8: the signature verifies with the jwk, and the claims are there.
    The signature is checked by joserfc's algorithm for `alg` over the proof's own signing
    input: the header was read and checked already (proof_header.py), so parsing the whole
    JWT again (joserfc.jwt.decode) would only repeat that work."""
    _, dot, payload = signing_input.partition(".")
    if not dot or "." in payload:
        raise InvalidDpopProof("the DPoP header is not a compact JWS (a signed JWT: three base64url parts)")
    try:
        valid = algorithm(alg).verify(signing_input.encode("ascii"), urlsafe_b64decode(signature.encode("ascii")), key)
    except (JoseError, ValueError, TypeError, UnicodeError, binascii.Error):
        valid = False
    if not valid:
        raise InvalidDpopProof("the DPoP proof's signature does not verify with the key in its jwk header")
    try:
        # orjson, not json: it refuses what JSON (RFC 8259) does not allow and Python's parser
        # lets through: NaN, numbers beyond a double (an iat of 400 digits), lone surrogates.
        claims = orjson.loads(urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        claims = None
    if not isinstance(claims, dict):
        raise InvalidDpopProof("the DPoP proof's payload must be a JSON object of claims (RFC 9449 section 4.2)")
    kinds: tuple[tuple[str, type | tuple[type, ...]], ...] = (
        ("jti", str),
        ("htm", str),
        ("htu", str),
        ("iat", (int, float)),
    )
    for name, kind in kinds:
        value = claims.get(name)
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            raise InvalidDpopProof(f"the DPoP proof must carry the claim {name} (RFC 9449 section 4.2)")
    return claims


def verify(proof: str, *, method: str, url: str, now: float, nonces: Nonces, access_token: str | None = None) -> Proof:
    """Section 4.3 items 1-11 except the jti replay check (`claim`, which needs the store)."""
    if len(proof) > MAX_PROOF or "," in proof:
        raise InvalidDpopProof("send exactly one DPoP header holding one proof")
    # One pass over the compact form: header.payload (the signing input), and the signature.
    signing_input, _, signature = proof.rpartition(".")
    header, key, jkt = header_and_key(proof, signing_input.partition(".")[0])
    claims = _claims(signing_input, signature, key, header["alg"])
    if claims["htm"] != method:
        raise InvalidDpopProof(f"the DPoP proof's htm is {echo(claims['htm'], 10)}; this request's method is {method}")
    # The same string is the same URL (the common case: skips parsing both).
    if claims["htu"] != url and _htu_of(claims["htu"]) != normalise_htu(url):
        raise InvalidDpopProof(f"the DPoP proof's htu {echo(claims['htu'], 120)} is not this request's URL: {url}")
    iat = claims["iat"]  # a NumericDate: RFC 7519 allows fractions
    if not math.isfinite(iat):  # JSON parsers accept NaN and Infinity
        raise InvalidDpopProof("the DPoP proof's iat must be a time in seconds (RFC 9449 section 4.2)")
    # In whole seconds of this server's clock: a client writes iat as its time cut to the
    # second, so a proof exactly WINDOW seconds old by that count passes, as said.
    age = math.floor(now) - iat
    if age > WINDOW or -age > WINDOW:
        direction = "old" if age > 0 else "far in the future"
        raise InvalidDpopProof(
            f"the DPoP proof's iat is {math.ceil(abs(age))} seconds {'old' if age > 0 else 'ahead'} "
            f"(too {direction}: proofs are accepted within {WINDOW} seconds); sign a new proof, and check the clock"
        )
    if access_token is not None and claims.get("ath") != ath(access_token):
        raise InvalidDpopProof("the DPoP proof's ath is not the SHA-256 hash of the access token sent with it")
    check_nonce(claims.get("nonce"), nonces, now)
    return Proof(jkt=jkt, jti=claims["jti"], iat=int(iat))


async def verified(request: ProofCheck, proof: str, now: float, access_token: str | None) -> Proof:
    """`verify` for the request's method and URL, run with the other proofs of this turn of
    the event loop (batch.py)."""
    return await PROOFS.run(
        lambda: verify(
            proof, method=request.method, url=request.url, now=now, nonces=request.nonces, access_token=access_token
        )
    )


async def claim(used_once: UsedOnceStore, proof: Proof, now: float) -> None:
    """Section 11.1: a jti is accepted once. The claim lasts as long as the proof could
    pass the iat check; jtis are per key, so two clients' random jtis never collide."""
    if not await used_once.first_use(USED_ONCE_KIND, f"{proof.jkt} {proof.jti}", proof.iat + WINDOW + 1, now):
        raise InvalidDpopProof("this DPoP proof was already used (its jti was seen before); sign a new proof")


async def check(request: ProofCheck, now: float, access_token: str | None = None) -> Proof:
    """A proof that was sent: verified (section 4.3) and its jti claimed (section 11.1)."""
    if request.proof is None:
        raise InvalidDpopProof("send a DPoP proof in the DPoP header (RFC 9449 section 4)")
    proof = await verified(request, request.proof, now, access_token)
    await claim(request.used_once, proof, now)
    return proof


def nonce_before_assertion(request: ProofCheck | None, now: float) -> None:
    """Sections 8 and 9, ahead of client authentication, for a client that authenticates
    with a single-use assertion (RFC 7523): asked for a nonce after its assertion's `jti`
    was claimed, the client would find its retry with the same assertion and a new proof
    refused as a replay. So the proof's nonce is looked at first, the payload read without
    its signature, only to decide whether to ask for one; the whole proof is verified after
    client authentication as always. Asking for a nonce tells nobody anything: it is sent
    to whoever sends a proof without one."""
    if request is None or request.proof is None or len(request.proof) > MAX_PROOF:
        return  # a nonce sent when none is required is checked too (section 9): an old one is refused
    try:
        claims = orjson.loads(urlsafe_b64decode(request.proof.split(".")[1].encode("ascii")))
    except (IndexError, ValueError, UnicodeError, binascii.Error):
        return  # not a proof at all: the verification after client authentication says so
    if isinstance(claims, dict):
        check_nonce(claims.get("nonce"), request.nonces, now)


async def at_token_endpoint(request: ProofCheck | None, client: Client, now: float) -> str | None:
    """Section 5: the jkt the issued tokens are bound to, None for bearer tokens. A client
    set to require DPoP (`dpop_bound_access_tokens`, section 5.2) must send a proof."""
    if request is None or request.proof is None:
        if client.require_dpop:
            raise InvalidRequest(
                f"the client {client.identifier!r} must use DPoP: send a DPoP proof in the DPoP header "
                "(RFC 9449 section 5.2, dpop_bound_access_tokens)"
            )
        return None
    return (await check(request, now)).jkt
