"""private_key_jwt: RFC 7523 sections 2.2 and 3, RFC 7521 section 4.2, OIDC Core section 9.

A client that registered a public JWK set authenticates with `client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and `client_assertion`, a JWT it
signed with one of those keys. The checks, in order (a refused assertion never spends its
`jti`):

- the header's `alg` is an asymmetric signature algorithm of ALGORITHMS (never `none`, never
  an HMAC: the registered keys are public, so anyone could MAC with them);
- the key: the registered key whose `kid` the header names, or, without a `kid`, each
  registered key in turn; the signature verifies with it (joserfc);
- `iss` and `sub` are both the client's identifier (RFC 7523 section 3 items 1 and 2.B);
- `aud` (a string or an array) names the accepted audiences only: the issuer identifier,
  the token endpoint URL, or the URL of the endpoint being called. An array naming another
  server too is refused: an assertion a client made for several servers is one any of them
  could replay here (the audience injection that draft-ietf-oauth-rfc7523bis closes by
  requiring the issuer as the sole audience). The FAPI 2.0
  Security Profile requires servers to accept the issuer identifier as the sole `aud` of a
  client assertion, and clients should send exactly that; RFC 7523 section 3 allows the token endpoint
  URL, which most client libraries (Authlib among them) send; RFC 9126 section 2 makes
  the PAR endpoint's own URL acceptable there, and the same holds here for revocation
  and introspection;
- `exp` is required and in the future (LEEWAY seconds of clock skew allowed), and at most
  MAX_LIFETIME seconds ahead (section 3 item 4: the server "MAY reject JWTs with an exp
  claim value that is unreasonably far in the future"): one hour, the default lifetime of
  Authlib's and Google's client libraries and Okta's limit; `jti` single use is what stops
  replay, so the lifetime bounds only how long a `jti` is remembered;
- `nbf` and `iat`, when present, are not in the future (beyond LEEWAY);
- `jti` is required (OIDC Core section 9) and used once: it is claimed in the shared
  UsedOnceStore (kind "assertion", per client) until `exp` + LEEWAY, so a second
  presentation on any node fails.

Every refusal is invalid_client (RFC 7521 section 4.2.1) with a description naming the
problem; client_auth.py turns it into the 401 and the throttle counts it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from tessera.model import Client
from tessera.protocol.errors import InvalidClient, echo
from tessera.protocol.ports import UsedOnceStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
METHOD = "private_key_jwt"
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519")
LEEWAY = 60
MAX_LIFETIME = 3600
USED_ONCE_KIND = "assertion"
MAX_ASSERTION = 16_384
MAX_CLIENT_ID = 2048  # identifiers are up to 255 characters; metadata document URLs longer

PublicKey = RSAKey | ECKey | OKPKey

# joserfc's default limit on a JWS header (512 bytes) is below a header carrying an x5c
# certificate chain; and a header parameter this server does not know is ignored, as RFC
# 7515 section 4 says, unless it is marked critical (refused in _verified).
_REGISTRY = JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)
_REGISTRY.max_header_length = 8192


@dataclass(frozen=True, slots=True)
class AssertionCheck:
    """What an endpoint that accepts assertions knows: where `jti`s are claimed, and the
    audiences it accepts (the issuer, the token endpoint, and its own URL)."""

    used_once: UsedOnceStore
    issuer: str
    token_endpoint: str
    endpoint: str

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.issuer, self.token_endpoint, self.endpoint)))


def at(used_once: UsedOnceStore | None, issuer: str, token_path: str, path: str) -> AssertionCheck | None:
    """The check for the endpoint at `path` of `issuer`; None when no store was given."""
    if used_once is None:
        return None
    return AssertionCheck(used_once, issuer, issuer + token_path, issuer + path)


def _refuse(description: str) -> InvalidClient:
    return InvalidClient(description)


def _extract(assertion: str) -> jws.CompactSignature:
    if len(assertion) > MAX_ASSERTION:
        raise _refuse(f"client_assertion is longer than {MAX_ASSERTION} characters")
    try:
        return jws.extract_compact(assertion.encode("ascii"), registry=_REGISTRY)
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise _refuse("client_assertion is not a signed JWT (compact JWS: header.payload.signature)") from None


def _claims(compact: jws.CompactSignature) -> dict[str, Any]:
    try:
        # orjson, not json: it refuses what JSON (RFC 8259) does not allow and Python's
        # parser lets through: NaN, numbers beyond a double, lone surrogates (which no
        # client_id holds, and which the lookup by sub could not even encode).
        claims = orjson.loads(compact.payload)
    except (ValueError, UnicodeError):
        claims = None
    if not isinstance(claims, dict):
        raise _refuse("client_assertion's payload is not a JSON object of claims")
    return claims


def claimed_client_id(assertion: str) -> str | None:
    """The client the assertion claims to be (`sub`, else `iss`), read before any check so
    that the client and its keys can be found; None when it names none."""
    claims = _claims(_extract(assertion))
    for name in ("sub", "iss"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            # Never looked up: no client_id is that long, and PostgreSQL refuses NUL in text.
            if len(value) > MAX_CLIENT_ID or "\x00" in value:
                raise _refuse(f"client_assertion {name} is not a client_id")
            return value
    return None


def registered_keys(client: Client) -> list[PublicKey]:
    if not client.jwks:
        return []
    try:
        keys = KeySet.import_key_set(json.loads(client.jwks)).keys
    except (JoseError, ValueError, TypeError, KeyError):
        return []
    return [key for key in keys if isinstance(key, (RSAKey, ECKey, OKPKey))]


def _verified(assertion: str, compact: jws.CompactSignature, client: Client) -> None:
    header = compact.headers()
    if "crit" in header:
        # RFC 7515 section 4.1.11: a JWS whose critical extensions the recipient does not
        # understand is invalid; this server understands none.
        raise _refuse(
            f"client_assertion's header marks {echo(json.dumps(header['crit']), 80)} as critical (crit); "
            "this server supports no JWS extensions: sign the assertion without crit"
        )
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _refuse(
            f"client_assertion alg {echo(str(alg), 20)} is not accepted: sign with the client's private key "
            f"using one of {', '.join(ALGORITHMS)} (never none or an HMAC)"
        )
    keys = registered_keys(client)
    kid = header.get("kid")
    if kid is not None:
        keys = [key for key in keys if key.kid == kid]
        if not keys:
            known = ", ".join(repr(k.kid) for k in registered_keys(client) if k.kid) or "none"
            raise _refuse(
                f"client_assertion names kid {echo(str(kid), 60)}, which is not among client "
                f"{client.identifier!r}'s registered keys (their kids: {known})"
            )
    for key in keys:
        if key.alg not in (None, alg):
            continue
        try:
            with warnings.catch_warnings():
                # joserfc warns that RFC 9864 deprecates "EdDSA" for "Ed25519"; clients still
                # send it, and the signature is the same Ed25519 signature.
                warnings.simplefilter("ignore", SecurityWarning)
                jws.deserialize_compact(assertion, key, registry=_REGISTRY)
        except (JoseError, ValueError, TypeError):
            continue
        return
    which = f"the key {kid!r}" if kid is not None else "any of its registered keys"
    raise _refuse(
        f"client_assertion's signature does not verify with {which} of client {client.identifier!r} "
        f"using {alg}; sign with the private key of a registered public key"
    )


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(f"client_assertion claim {name} must be a number of seconds since the epoch")
    return float(value)


def _shown(aud: object) -> str:
    """An aud as the description quotes it: a string once (echo quotes it), a list as its
    JSON (not quoted again)."""
    if isinstance(aud, str):
        return echo(aud, 200)
    shown = json.dumps(aud)
    return shown if len(shown) <= 200 else shown[:200] + "..."


def _parties(claims: dict[str, Any], client: Client, check: AssertionCheck) -> None:
    for name in ("iss", "sub"):
        if claims.get(name) != client.identifier:
            raise _refuse(
                f"client_assertion {name} must be the client_id {client.identifier!r} "
                f"(RFC 7523 section 3), not {echo(str(claims.get(name)), 80)}"
            )
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(value, str) and value in check.audiences for value in audiences):
        raise _refuse(
            f"client_assertion aud {_shown(aud)} does not name this server: "
            f"send the issuer {check.issuer!r} (or one of: {', '.join(check.audiences[1:])})"
        )
    others = [value for value in audiences if value not in check.audiences]
    if others:
        raise _refuse(
            f"client_assertion aud also names {_shown(others)}: an assertion for this server "
            f"names this server only; send the issuer {check.issuer!r} as its aud"
        )


def _times(claims: dict[str, Any], now: float) -> float:
    exp = _number(claims, "exp")
    if exp is None:
        raise _refuse("client_assertion must carry exp, its expiry time (RFC 7523 section 3)")
    if exp + LEEWAY <= now:
        raise _refuse(f"client_assertion expired {int(now - exp)} seconds ago; sign a new one for each request")
    if exp - now > MAX_LIFETIME + LEEWAY:
        raise _refuse(
            f"client_assertion exp is {int(exp - now)} seconds away; at most {MAX_LIFETIME} seconds "
            "are accepted: give it a short lifetime"
        )
    for name in ("nbf", "iat"):
        value = _number(claims, name)
        if value is not None and value > now + LEEWAY:
            raise _refuse(
                f"client_assertion {name} is {int(value - now)} seconds in the future; check the client's clock"
            )
    return exp


async def verify(assertion: str, client: Client, check: AssertionCheck, now: float) -> None:
    """Authenticate `client` by `assertion` (the module docstring's checks), or InvalidClient."""
    if not client.jwks:
        raise _refuse(
            f"client {client.identifier!r} has no registered public keys (jwks); register a JWK set "
            "to use private_key_jwt, or authenticate with its client_secret"
        )
    compact = _extract(assertion)
    _verified(assertion, compact, client)
    claims = _claims(compact)
    _parties(claims, client, check)
    exp = _times(claims, now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _refuse("client_assertion must carry jti, a unique identifier used once (OIDC Core section 9)")
    if len(jti) > 255:
        raise _refuse("client_assertion jti may be at most 255 characters")
    if not await check.used_once.first_use(USED_ONCE_KIND, f"{client.id}:{jti}", exp + LEEWAY, now):
        raise _refuse(
            f"client_assertion jti {echo(jti, 60)} was already used: each assertion may be used once "
            "(RFC 7523 section 3); sign a new one with a fresh jti"
        )
