"""A client's registered JWK set for private_key_jwt (RFC 7523): the checks that it holds
public signing keys only, each usable to verify a client assertion.

Kept apart from client_rules.py because these checks read JSON and import keys (joserfc),
while the other field checks are plain text and choice rules; the CLI also reads a key
set file against MAX_JWKS_CHARS before any client is drafted.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tessera.protocol import client_assertion
from tessera.reasons import R_, Reason

# A registered key set for private_key_jwt (RFC 7523): public signing keys only.
MAX_JWKS_KEYS = 10
MAX_JWKS_CHARS = 32_768
MIN_RSA_BITS = 2048
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_SIGNING_CURVES = {"EC": ("P-256", "P-384", "P-521"), "OKP": ("Ed25519", "Ed448")}


def _key_problem(number: int, jwk: Any) -> Reason | None:
    """What is wrong with one key of a set to verify client assertions, or None."""
    if not isinstance(jwk, dict):
        return R_("key %(number)s is not a JSON object", number=number)
    kty = jwk.get("kty")
    if kty == "oct":
        return R_("key %(number)s is a symmetric (oct) key; register public keys only (RSA, EC or OKP)", number=number)
    private = [name for name in _PRIVATE_MEMBERS if name in jwk]
    if private:
        return R_(
            "key %(number)s holds private key members (%(members)s); register the public key only",
            number=number,
            members=", ".join(private),
        )
    if kty not in ("RSA", "EC", "OKP"):
        return R_("key %(number)s has kty %(kty)s; use RSA, EC or OKP", number=number, kty=repr(str(kty)[:20]))
    if jwk.get("use", "sig") != "sig":
        return R_(
            "key %(number)s has use %(use)s; keys that sign assertions have use 'sig'",
            number=number,
            use=repr(str(jwk.get("use"))[:20]),
        )
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return R_("key %(number)s has key_ops without 'verify'", number=number)
    if "alg" in jwk and jwk["alg"] not in client_assertion.ALGORITHMS:
        return R_(
            "key %(number)s has alg %(alg)s; use one of %(algs)s",
            number=number,
            alg=repr(str(jwk["alg"])[:20]),
            algs=", ".join(client_assertion.ALGORITHMS),
        )
    if kty in _SIGNING_CURVES and jwk.get("crv") not in _SIGNING_CURVES[kty]:
        return R_(
            "key %(number)s has crv %(crv)s, which cannot sign; use one of %(curves)s",
            number=number,
            crv=repr(str(jwk.get("crv"))[:20]),
            curves=", ".join(_SIGNING_CURVES[kty]),
        )
    if kty == "RSA":
        # Before importing: joserfc warns about (and would accept) short RSA keys.
        bits = _modulus_bits(jwk.get("n"))
        if bits < MIN_RSA_BITS:
            return R_(
                "key %(number)s is an RSA key of %(bits)s bits; use at least %(minimum)s",
                number=number,
                bits=bits,
                minimum=MIN_RSA_BITS,
            )
    try:
        if kty == "RSA":
            RSAKey.import_key(jwk)
        elif kty == "EC":
            ECKey.import_key(jwk)
        else:
            OKPKey.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        return R_("key %(number)s is not a valid %(kty)s public key", number=number, kty=kty)
    return None


def _modulus_bits(n: Any) -> int:
    if not isinstance(n, str):
        return 0
    try:
        modulus = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (ValueError, binascii.Error):
        return 0
    return int.from_bytes(modulus, "big").bit_length()


def jwks_problem(text: str) -> tuple[str | None, Reason | None]:
    """(the key set as compact JSON, None) or (None, what is wrong with it)."""
    if len(text) > MAX_JWKS_CHARS:
        return None, R_(
            "the JWK set may be at most %(limit)s characters (it has %(count)s)", limit=MAX_JWKS_CHARS, count=len(text)
        )
    try:
        parsed = json.loads(text)
    except ValueError as error:
        return None, R_("the JWK set is not valid JSON (%(error)s)", error=str(error)[:80])
    keys = parsed.get("keys") if isinstance(parsed, dict) else None
    if not isinstance(keys, list) or not keys:
        return None, R_('a JWK set is a JSON object {"keys": [...]} with at least one public key')
    if len(keys) > MAX_JWKS_KEYS:
        return None, R_(
            "the JWK set may hold at most %(limit)s keys (it has %(count)s)", limit=MAX_JWKS_KEYS, count=len(keys)
        )
    for number, jwk in enumerate(keys, start=1):
        problem = _key_problem(number, jwk)
        if problem is not None:
            return None, problem
    kids = [jwk["kid"] for jwk in keys if "kid" in jwk]
    if len(kids) != len(set(map(str, kids))):
        return None, R_("two keys share a kid; give each key its own kid")
    return json.dumps({"keys": keys}, separators=(",", ":")), None
