"""tessera/protocol/dpop/: RFC 9449 sections 4.2, 4.3, 6.1, 7.1, 8 and 11.1; RFC 7638 section 3.1."""

from __future__ import annotations

import asyncio
import json
from base64 import urlsafe_b64encode as _b64
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tessera.protocol import dpop
from tessera.protocol.errors import InvalidRequest, InvalidToken
from tessera.storage.memory.single_use import MemoryUsedOnceStore
from tests.dpop_support import DpopKey
from tests.unit.builders import make_client, make_public_client, make_token, vector

RFC9449 = vector("rfc9449_examples")
RFC7638 = vector("rfc7638_examples")
URL = "https://server.example.com/token"
NOW = 1_700_000_000.0
NONCES = dpop.Nonces.from_secret("x" * 40, required=False)


def test_rfc9449_section_4_1_example_proof_verifies() -> None:
    """RFC 9449 section 4.1 (Figure 3): the example proof, checked at its own iat, gives the
    jkt of section 6.1's example (its key's RFC 7638 thumbprint)."""
    proof = dpop.verify(RFC9449["proof"], method=RFC9449["htm"], url=RFC9449["htu"], now=RFC9449["iat"], nonces=NONCES)
    assert proof == dpop.Proof(jkt=RFC9449["jkt"], jti=RFC9449["jti"], iat=RFC9449["iat"])


def test_rfc9449_example_proof_is_stale_today() -> None:
    """RFC 9449 section 4.3 item 11: the example's iat (2019) is far outside the window now."""
    with pytest.raises(dpop.InvalidDpopProof, match="iat"):
        dpop.verify(RFC9449["proof"], method="POST", url=RFC9449["htu"], now=NOW, nonces=NONCES)


def test_rfc9449_section_7_1_ath() -> None:
    """RFC 9449 section 7.1: ath is base64url(SHA-256(access token))."""
    assert dpop.ath(RFC9449["access_token"]) == RFC9449["ath"]


def test_rfc7638_section_3_1_thumbprint() -> None:
    """RFC 7638 section 3.1: the example RSA key's SHA-256 thumbprint (what a jkt is)."""
    assert RSAKey.import_key(RFC7638["jwk"]).thumbprint() == RFC7638["thumbprint"]


@pytest.mark.parametrize("alg", dpop.ALGORITHMS)
def test_each_advertised_algorithm_verifies(alg: str) -> None:
    """RFC 9449 section 4.2 / 5.1: every algorithm of dpop_signing_alg_values_supported works."""
    key = DpopKey(alg)
    proof = dpop.verify(key.proof("POST", URL, NOW), method="POST", url=URL, now=NOW, nonces=NONCES)
    assert proof.jkt == key.jkt


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"header": {"typ": "JWT"}}, "typ"),
        ({"header": {"alg": "HS256"}}, "alg"),
        ({"claims": {"htm": "GET"}}, "htm"),
        ({"claims": {"htu": "https://server.example.com/other"}}, "htu"),
        ({"claims": {"iat": int(NOW) - 61}}, "iat"),
        ({"claims": {"iat": int(NOW) + 61}}, "iat"),
        ({"claims": {"jti": ""}}, "jti"),
    ],
)
def test_section_4_3_refusals(change: dict[str, dict[str, object]], message: str) -> None:
    """RFC 9449 section 4.3: typ, alg, htm, htu (section 4.3 item 9), iat window, jti present."""
    key = DpopKey()
    hs256 = change.get("header", {}).get("alg") == "HS256"
    token = _hs256_proof() if hs256 else key.proof("POST", URL, NOW, **change)  # type: ignore[arg-type]
    with pytest.raises(dpop.InvalidDpopProof, match=message):
        dpop.verify(token, method="POST", url=URL, now=NOW, nonces=NONCES)


def _hs256_proof() -> str:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}}
    claims = {"jti": "a", "htm": "POST", "htu": URL, "iat": int(NOW)}
    return jwt.encode(header, claims, OctKey.import_key("secretsecretsecretsecretsecretsecret"))


def test_private_key_in_jwk_refused() -> None:
    """RFC 9449 section 4.3 item 6: "the jwk JOSE Header Parameter does not contain a private key"."""
    key = DpopKey()
    proof = key.proof("POST", URL, NOW, header={"jwk": dict(key.key.as_dict(private=True))})
    with pytest.raises(dpop.InvalidDpopProof, match="private"):
        dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES)


def test_signature_by_another_key_refused() -> None:
    """RFC 9449 section 4.3 item 7: the signature verifies with the key in the jwk header."""
    proof = DpopKey().proof("POST", URL, NOW, header={"jwk": DpopKey().public_jwk})
    with pytest.raises(dpop.InvalidDpopProof, match="signature"):
        dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES)


@pytest.mark.parametrize("junk", ["", "a.b", "not a jwt", "a,b", "x" * 9000])
def test_malformed_proof_refused(junk: str) -> None:
    """RFC 9449 section 4.3 items 1-2: one well-formed JWT."""
    with pytest.raises(dpop.InvalidDpopProof):
        dpop.verify(junk, method="POST", url=URL, now=NOW, nonces=NONCES)


def test_htu_ignores_query_fragment_and_default_port() -> None:
    """RFC 9449 section 4.3 item 9: htu compared without query and fragment, normalised."""
    key = DpopKey()
    proof = key.proof("POST", "HTTPS://Server.Example.com:443/token?x=1#f", NOW)
    assert dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES).jkt == key.jkt


def test_htu_with_userinfo_is_another_url() -> None:
    """RFC 9449 section 4.3 item 9 with RFC 3986 section 6.2.2: normalisation keeps the
    userinfo, so https://user:pass@server.example.com/token is not the token endpoint's URL
    (reading only the host and port had dropped it)."""
    for htu in ("https://user:pass@server.example.com/token", "https://user@server.example.com/token"):
        proof = DpopKey().proof("POST", htu, NOW)
        with pytest.raises(dpop.InvalidDpopProof, match="htu"):
            dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES)


def test_ath_must_match_the_token() -> None:
    """RFC 9449 section 4.3 item 12 / 7.1: ath is the presented token's hash."""
    key = DpopKey()
    proof = key.proof("GET", URL, NOW, access_token="tsa_other")
    with pytest.raises(dpop.InvalidDpopProof, match="ath"):
        dpop.verify(proof, method="GET", url=URL, now=NOW, nonces=NONCES, access_token="tsa_this")


def test_nonce_required_then_accepted_then_stale() -> None:
    """RFC 9449 sections 8 and 9: use_dpop_nonce with a nonce; a proof with it passes; an
    old nonce (two periods later) is refused with a fresh one."""
    nonces = dpop.Nonces.from_secret("y" * 40, required=True)
    key = DpopKey()
    with pytest.raises(dpop.UseDpopNonce) as refused:
        dpop.verify(key.proof("POST", URL, NOW), method="POST", url=URL, now=NOW, nonces=nonces)
    nonce = refused.value.nonce
    assert dpop.verify(key.proof("POST", URL, NOW, nonce=nonce), method="POST", url=URL, now=NOW, nonces=nonces)
    later = NOW + 2 * dpop.NONCE_PERIOD
    with pytest.raises(dpop.UseDpopNonce) as again:
        dpop.verify(key.proof("POST", URL, later, nonce=nonce), method="POST", url=URL, now=later, nonces=nonces)
    assert again.value.nonce != nonce


@pytest.mark.parametrize("proof", ["", "no dots", "a.%%%.c", "a.bnVsbA.c", "a." + "x" * 9000 + ".c"])
def test_the_nonce_looked_at_before_an_assertion_leaves_what_is_not_a_proof_to_the_verification(
    proof: str,
) -> None:
    """RFC 9449 section 8, ahead of client authentication: only a readable proof's nonce
    is asked for; anything else is refused later by the whole verification (section 4.3)."""
    nonces = dpop.Nonces.from_secret("y" * 40, required=True)
    check = dpop.ProofCheck(proof=proof, method="POST", url=URL, used_once=MemoryUsedOnceStore(), nonces=nonces)
    dpop.nonce_before_assertion(check, NOW)


def test_the_nonce_looked_at_before_an_assertion_is_asked_for_when_required_only() -> None:
    """RFC 9449 sections 8 and 9: without a nonce, use_dpop_nonce when nonces are required;
    nothing when they are not; a current nonce passes."""
    key = DpopKey()
    required = dpop.Nonces.from_secret("y" * 40, required=True)

    def check(nonces: dpop.Nonces, **options: Any) -> dpop.ProofCheck:
        proof = key.proof("POST", URL, NOW, **options)
        return dpop.ProofCheck(proof=proof, method="POST", url=URL, used_once=MemoryUsedOnceStore(), nonces=nonces)

    with pytest.raises(dpop.UseDpopNonce):
        dpop.nonce_before_assertion(check(required), NOW)
    dpop.nonce_before_assertion(check(NONCES), NOW)
    dpop.nonce_before_assertion(check(required, nonce=required.current(NOW)), NOW)
    dpop.nonce_before_assertion(None, NOW)
    # Section 9: a nonce the server did not issue (or an old one) is refused even when nonces
    # are not required, so it too is refused before the assertion is spent.
    with pytest.raises(dpop.UseDpopNonce):
        dpop.nonce_before_assertion(check(NONCES, nonce="not-ours"), NOW)


def test_nonce_of_another_secret_refused() -> None:
    """RFC 9449 section 9: a nonce the server did not issue is refused even when not required."""
    other = dpop.Nonces.from_secret("z" * 40, required=False).current(NOW)
    with pytest.raises(dpop.UseDpopNonce):
        dpop.verify(DpopKey().proof("POST", URL, NOW, nonce=other), method="POST", url=URL, now=NOW, nonces=NONCES)


def test_jti_replay_refused() -> None:
    """RFC 9449 section 11.1: a proof's jti is accepted once."""
    store = MemoryUsedOnceStore()
    check = dpop.ProofCheck(
        proof=DpopKey().proof("POST", URL, NOW), method="POST", url=URL, used_once=store, nonces=NONCES
    )
    asyncio.run(dpop.check(check, NOW))
    with pytest.raises(dpop.InvalidDpopProof, match="already used"):
        asyncio.run(dpop.check(check, NOW + 1))


def test_require_dpop_without_proof() -> None:
    """RFC 9449 section 5.2 (dpop_bound_access_tokens): such a client must send a proof."""
    with pytest.raises(InvalidRequest, match="DPoP"):
        asyncio.run(dpop.at_token_endpoint(None, make_client(require_dpop=True), NOW))
    assert asyncio.run(dpop.at_token_endpoint(None, make_public_client(), NOW)) is None


def test_bound_token_needs_the_same_key() -> None:
    """RFC 9449 section 7.1: the proof's key must be the one the token is bound to."""
    key, other = DpopKey(), DpopKey()
    token = make_token(jkt=key.jkt)
    check = dpop.ProofCheck(
        proof=other.proof("GET", URL, NOW, access_token="tsa_x"), method="GET", url=URL,
        used_once=MemoryUsedOnceStore(), nonces=NONCES,
    )  # fmt: skip
    with pytest.raises(dpop.InvalidDpopProof, match="another key"):
        asyncio.run(dpop.verify_for_token(check, token, "tsa_x", NOW))
    with pytest.raises(InvalidToken, match="not bound"):
        asyncio.run(dpop.verify_for_token(check, make_token(), "tsa_x", NOW))


def test_challenge_names_the_algorithms() -> None:
    """RFC 9449 section 7.1: WWW-Authenticate: DPoP algs="...", error="..."."""
    challenge = dpop.challenge(dpop.InvalidDpopProof("bad"))
    assert challenge == f'DPoP algs="{" ".join(dpop.ALGORITHMS)}", error="invalid_dpop_proof", error_description="bad"'


def test_remembered_header_does_not_skip_the_signature() -> None:
    """RFC 9449 section 4.3 item 7: a proof whose header was seen (and remembered) before
    still needs its own valid signature: a payload changed after signing is refused."""
    key = DpopKey()
    good = key.proof("POST", URL, NOW)
    assert dpop.verify(good, method="POST", url=URL, now=NOW, nonces=NONCES)
    other = key.proof("GET", URL, NOW)
    head, _, signature = good.split(".")
    forged = f"{head}.{other.split('.')[1]}.{signature}"
    with pytest.raises(dpop.InvalidDpopProof, match="signature"):
        dpop.verify(forged, method="GET", url=URL, now=NOW, nonces=NONCES)
    with pytest.raises(dpop.InvalidDpopProof, match="three"):
        dpop.verify(f"{head}.x", method="POST", url=URL, now=NOW, nonces=NONCES)


@pytest.mark.parametrize("htu", ["http://[::1", "https://server.example.com:99999/token", "not a url"])
def test_malformed_htu_is_a_refusal_not_an_error(htu: str) -> None:
    """RFC 9449 section 4.3 item 9, and no 500 on bad input: an htu that is no URL is refused."""
    with pytest.raises(dpop.InvalidDpopProof, match="htu"):
        dpop.verify(
            DpopKey().proof("POST", URL, NOW, claims={"htu": htu}), method="POST", url=URL, now=NOW, nonces=NONCES
        )


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.999])
def test_the_window_is_whole_seconds_either_way_rfc9449_11_1(fraction: float) -> None:
    """INTERFACE.md section 10: "iat within 60 s either way". A client writes iat as its
    time cut to the second: a proof exactly 60 seconds old, or ahead, passes whatever the
    fraction of this server's clock; 61 is refused, and the description says 61."""
    key = DpopKey()
    now = float(int(NOW)) + fraction
    for iat in (int(now) - dpop.WINDOW, int(now) + dpop.WINDOW):
        proof = key.proof("POST", URL, now, claims={"iat": iat})
        assert dpop.verify(proof, method="POST", url=URL, now=now, nonces=NONCES).iat == iat
    with pytest.raises(dpop.InvalidDpopProof, match="iat is 61 seconds old"):
        dpop.verify(
            key.proof("POST", URL, now, claims={"iat": int(now) - 61}), method="POST", url=URL, now=now, nonces=NONCES
        )
    with pytest.raises(dpop.InvalidDpopProof, match="iat is 61 seconds ahead"):
        dpop.verify(
            key.proof("POST", URL, now, claims={"iat": int(now) + 61}), method="POST", url=URL, now=now, nonces=NONCES
        )


def test_fractional_iat_accepted_and_nan_and_huge_refused() -> None:
    """RFC 7519 section 2: iat is a NumericDate, which may have a fraction."""
    key = DpopKey()
    assert dpop.verify(
        key.proof("POST", URL, NOW, claims={"iat": NOW + 0.5}), method="POST", url=URL, now=NOW, nonces=NONCES
    )
    with pytest.raises(dpop.InvalidDpopProof, match="iat"):
        dpop.verify(key.proof("POST", URL, NOW, claims={"iat": 1e300}), method="POST", url=URL, now=NOW, nonces=NONCES)
    # NaN and Infinity are not JSON (RFC 8259 section 6), and an integer of 400 digits is
    # no time (float() of it would overflow): each is refused as a payload that is not JSON.
    for bad in (float("nan"), float("inf"), 10**400, -(10**400)):
        with pytest.raises(dpop.InvalidDpopProof, match="JSON object of claims"):
            dpop.verify(_signed_with_iat(key, bad), method="POST", url=URL, now=NOW, nonces=NONCES)


def test_a_critical_header_extension_is_refused() -> None:
    """RFC 7515 section 4.1.11: a JWS listing an extension the recipient does not understand
    in crit is invalid; Tessera understands none."""
    import json as json_module

    from joserfc.jws import JWSRegistry
    from joserfc.util import json_b64encode, urlsafe_b64encode

    key = DpopKey()
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk, "crit": ["x-ext"], "x-ext": 1}
    claims = {"jti": "c", "htm": "POST", "htu": URL, "iat": NOW}
    # Signed by hand: joserfc refuses to write a crit it does not know either.
    signing_input = json_b64encode(header) + b"." + json_b64encode(json_module.dumps(claims))
    signature = JWSRegistry().get_alg("ES256").sign(signing_input, key.key)
    proof = (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")
    with pytest.raises(dpop.InvalidDpopProof, match="crit"):
        dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES)


def _signed_with_iat(key: DpopKey, iat: object) -> str:
    """A proof whose payload JSON holds `iat` as Python's json writes it (NaN, Infinity and
    integers of any length included)."""
    import json as json_module

    from joserfc import jws

    payload = json_module.dumps({"jti": "n", "htm": "POST", "htu": URL, "iat": iat})
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk}
    return jws.serialize_compact(header, payload, key.key)


def _forged(alg: str, jwk: dict[str, object], sign: Callable[[bytes], bytes]) -> str:
    """A proof whose header names `alg` and carries `jwk`, signed by `sign` over its signing
    input: what a client could send that joserfc itself would not sign."""
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": jwk}
    claims = {"jti": "forged", "htm": "POST", "htu": URL, "iat": int(NOW)}
    signing_input = b".".join(urlsafe_b64encode(json.dumps(part).encode()) for part in (header, claims))
    return (signing_input + b"." + urlsafe_b64encode(sign(signing_input))).decode()


def urlsafe_b64encode(data: bytes) -> bytes:
    return _b64(data).rstrip(b"=")


def _ecdsa_raw(private: ec.EllipticCurvePrivateKey, size: int) -> Callable[[bytes], bytes]:
    def sign(message: bytes) -> bytes:
        r, s = decode_dss_signature(private.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def _b64_int(value: int) -> str:
    return urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode()


def _public_jwk(private: object) -> dict[str, object]:
    if isinstance(private, rsa.RSAPrivateKey):  # by hand: joserfc warns about a short key
        numbers = private.public_key().public_numbers()
        return {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined]
    kind = ECKey if isinstance(private, ec.EllipticCurvePrivateKey) else OKPKey
    return dict(kind.import_key(pem).as_dict(private=False))


@pytest.mark.parametrize(
    ("alg", "private", "sign"),
    [
        # Each of these went through: the first two as a 500 (the verification of another
        # kind of key failed), the others as accepted proofs under a name they do not meet.
        ("ES256", "rsa", lambda key: lambda m: b"\0" * 64),
        ("ES256", "ed25519", lambda key: lambda m: b"\0" * 64),
        ("ES256", "p384", lambda key: _ecdsa_raw(key, 48)),
        ("ES256", "secp256k1", lambda key: _ecdsa_raw(key, 32)),
        ("Ed25519", "ed448", lambda key: key.sign),
        ("RS256", "rsa1024", lambda key: lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA256())),
    ],
)
def test_a_key_of_another_kind_than_alg_names_is_refused(alg: str, private: str, sign: Callable[[Any], Any]) -> None:
    """RFC 9449 section 4.3 item 5 ("alg ... acceptable per local policy"), RFC 7518 section
    3.4 (ES256 is ECDSA with P-256), RFC 9864 (Ed25519 is that parameter set only) and
    section 3.3 (an RSA key of 2048 bits or more MUST be used): such a proof is refused with
    invalid_dpop_proof, never an error."""
    keys = {
        "rsa": lambda: rsa.generate_private_key(65537, 2048),
        "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "ed448": ed448.Ed448PrivateKey.generate,
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()),
    }
    key = keys[private]()
    proof = _forged(alg, _public_jwk(key), sign(key))
    with pytest.raises(dpop.InvalidDpopProof, match=r"jwk does not fit its alg|bits or more"):
        dpop.verify(proof, method="POST", url=URL, now=NOW, nonces=NONCES)
