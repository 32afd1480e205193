"""tessera/protocol/client_assertion.py and its wiring in client_auth.py: private_key_jwt,
RFC 7523 sections 2.2 and 3, RFC 7521 section 4.2, OIDC Core section 9 (memory stores)."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from tessera.model import Client
from tessera.protocol import client_assertion, client_auth
from tessera.protocol.client_assertion import ASSERTION_TYPE, AssertionCheck
from tessera.protocol.client_auth import PRIVATE_KEY_JWT, ClientAuthenticationFailed
from tessera.protocol.errors import InvalidClient, InvalidRequest
from tessera.storage.memory.single_use import MemoryUsedOnceStore
from tests.unit.builders import ISSUER, SECRET, make_client

pytestmark = pytest.mark.anyio

NOW = 2_000_000_000.0
TOKEN_ENDPOINT = ISSUER + "/oauth/tokens"
REVOKE_ENDPOINT = ISSUER + "/oauth/revoke"
CLIENT_ID = "acme_service"

EC_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
OTHER_EC_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-2"})
ED_KEY = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
STRANGER_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})  # same kid, not registered


def _jwks(*keys: Any) -> str:
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]})


def _client(*keys: Any, **overrides: Any) -> Client:
    fields: dict[str, Any] = {"identifier": CLIENT_ID, "secret_hash": None, "secret_prefix": ""}
    fields.update(overrides)
    return make_client(jwks=_jwks(*(keys or (EC_KEY, ED_KEY, RSA_KEY))), **fields)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "exp": int(NOW) + 60,
        "iat": int(NOW),
        "jti": "jti-1",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _sign(claims: dict[str, Any] | None = None, key: Any = EC_KEY, alg: str = "ES256", **header: Any) -> str:
    head = {"alg": alg, "typ": "JWT", **header}
    if "kid" not in header and key.kid:
        head["kid"] = key.kid
    head = {k: v for k, v in head.items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # "EdDSA is deprecated via RFC 9864"
        return jwt.encode(head, claims or _claims(), key, algorithms=[alg])


def _check(store: MemoryUsedOnceStore | None = None, endpoint: str = TOKEN_ENDPOINT) -> AssertionCheck:
    return AssertionCheck(store or MemoryUsedOnceStore(), ISSUER, TOKEN_ENDPOINT, endpoint)


async def _refused(assertion: str, client: Client | None = None, check: AssertionCheck | None = None) -> str:
    with pytest.raises(InvalidClient) as refused:
        await client_assertion.verify(assertion, client or _client(), check or _check(), NOW)
    return refused.value.description


@pytest.mark.parametrize(
    ("key", "alg"),
    [(EC_KEY, "ES256"), (ED_KEY, "EdDSA"), (ED_KEY, "Ed25519"), (RSA_KEY, "RS256"), (RSA_KEY, "PS256")],
)
async def test_a_registered_key_authenticates(key: Any, alg: str) -> None:
    """RFC 7523 section 2.2: a JWT signed with the client's key authenticates it."""
    await client_assertion.verify(_sign(key=key, alg=alg), _client(), _check(), NOW)


@pytest.mark.parametrize("aud", [ISSUER, [ISSUER], TOKEN_ENDPOINT, [ISSUER, TOKEN_ENDPOINT], REVOKE_ENDPOINT])
async def test_accepted_audiences(aud: Any) -> None:
    """RFC 7523 section 3 item 3 (the token endpoint URL "MAY be used"), FAPI 2.0 (the issuer
    as sole aud), RFC 9126 section 2 (the endpoint called): any of them, string or array."""
    await client_assertion.verify(_sign(_claims(aud=aud)), _client(), _check(endpoint=REVOKE_ENDPOINT), NOW)


async def test_the_endpoint_called_is_not_accepted_elsewhere() -> None:
    """RFC 7523 section 3 item 3: aud must name this server; another endpoint's URL at the
    token endpoint is refused, and the description names the accepted values."""
    description = await _refused(_sign(_claims(aud=REVOKE_ENDPOINT)))
    assert ISSUER in description and TOKEN_ENDPOINT in description


@pytest.mark.parametrize("aud", [["https://elsewhere.example", TOKEN_ENDPOINT], [ISSUER, "https://evil.example"]])
async def test_an_audience_array_naming_another_server_too_is_refused(aud: Any) -> None:
    """draft-ietf-oauth-rfc7523bis (audience injection): an assertion a client made for
    several servers is one any of them could replay here; only this server's names pass."""
    description = await _refused(_sign(_claims(aud=aud)))
    assert "also names" in description and repr(ISSUER) in description


async def test_wrong_audience() -> None:
    """RFC 7523 section 3 item 3: "MUST reject any JWT that does not contain its own identity"."""
    description = await _refused(_sign(_claims(aud="https://other.tessera.example")))
    assert "does not name this server" in description and repr(ISSUER) in description
    # The value sent, quoted once.
    assert "aud 'https://other.tessera.example' does not" in description


async def test_without_a_kid_each_registered_key_is_tried() -> None:
    """OIDC Core section 10.1: without a kid the verifier picks among the registered keys."""
    await client_assertion.verify(_sign(key=OTHER_EC_KEY, kid=None), _client(EC_KEY, OTHER_EC_KEY), _check(), NOW)


async def test_unknown_kid() -> None:
    description = await _refused(_sign(key=ECKey.generate_key("P-256", parameters={"kid": "nope"})))
    assert "'nope'" in description and "'ec-1'" in description


async def test_wrong_key() -> None:
    """RFC 7523 section 3 item 9: the signature must verify; an unregistered key with a
    registered kid does not."""
    assert "does not verify" in await _refused(_sign(key=STRANGER_KEY))


async def test_alg_none_is_refused() -> None:
    """RFC 7523 section 3 item 9 (a signed JWT); RFC 8725 section 3.1: never 'none'."""
    part = lambda value: base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()  # noqa: E731
    unsigned = f"{part({'alg': 'none'})}.{part(_claims())}."
    assert "alg 'none' is not accepted" in await _refused(unsigned)


async def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    """RFC 8725 section 2.1 (algorithm confusion): a MAC keyed with the public JWK is refused."""
    secret = OctKey.import_key(_jwks(EC_KEY).encode())
    assert "alg 'HS256' is not accepted" in await _refused(_sign(key=secret, alg="HS256", kid="ec-1"))


async def test_expired() -> None:
    """RFC 7523 section 3 item 4: "MUST reject any JWT with an expiration time that has passed"
    (LEEWAY seconds of clock skew allowed)."""
    description = await _refused(_sign(_claims(exp=int(NOW) - client_assertion.LEEWAY - 5, iat=int(NOW) - 120)))
    assert "expired" in description
    await client_assertion.verify(_sign(_claims(exp=int(NOW) - 5)), _client(), _check(), NOW)


async def test_exp_is_required() -> None:
    """RFC 7523 section 3 item 4: "The JWT MUST contain an exp (expiration time) claim"."""
    assert "must carry exp" in await _refused(_sign(_claims(exp=None)))


async def test_exp_too_far_in_the_future() -> None:
    """RFC 7523 section 3 item 4: the server "MAY reject JWTs with an exp claim value that is
    unreasonably far in the future"; Tessera accepts at most MAX_LIFETIME (+ LEEWAY)."""
    too_far = int(NOW) + client_assertion.MAX_LIFETIME + client_assertion.LEEWAY + 1
    assert "at most 3600 seconds" in await _refused(_sign(_claims(exp=too_far)))
    await client_assertion.verify(_sign(_claims(exp=int(NOW) + 3600)), _client(), _check(), NOW)


@pytest.mark.parametrize("name", ["nbf", "iat"])
async def test_not_yet_valid(name: str) -> None:
    """RFC 7523 section 3 items 5 and 6: nbf and iat are not in the future (beyond the leeway)."""
    description = await _refused(_sign(_claims(**{name: int(NOW) + 300})))
    assert f"{name} is 300 seconds in the future" in description


@pytest.mark.parametrize("name", ["iss", "sub"])
async def test_iss_and_sub_are_the_client_id(name: str) -> None:
    """RFC 7523 section 3 items 1 and 2.B: both are the client_id."""
    description = await _refused(_sign(_claims(**{name: "someone_else"})))
    assert f"{name} must be the client_id 'acme_service'" in description


async def test_jti_is_required() -> None:
    """OIDC Core section 9: jti is REQUIRED."""
    assert "must carry jti" in await _refused(_sign(_claims(jti=None)))


async def test_jti_is_used_once() -> None:
    """RFC 7523 section 3 item 7 and OIDC Core section 9: a replayed jti is refused."""
    store = MemoryUsedOnceStore()
    assertion = _sign()
    await client_assertion.verify(assertion, _client(), _check(store), NOW)
    description = await _refused(assertion, check=_check(store))
    assert "already used" in description
    fresh = _sign(_claims(jti="jti-2"))
    await client_assertion.verify(fresh, _client(), _check(store), NOW)


async def test_a_refused_assertion_does_not_spend_its_jti() -> None:
    store = MemoryUsedOnceStore()
    await _refused(_sign(_claims(aud="https://other.example")), check=_check(store))
    await client_assertion.verify(_sign(), _client(), _check(store), NOW)


async def test_jtis_are_per_client() -> None:
    store = MemoryUsedOnceStore()
    await client_assertion.verify(_sign(), _client(), _check(store), NOW)
    other = make_client(id=99, identifier="other_service", jwks=_jwks(EC_KEY))
    claims = _claims(iss="other_service", sub="other_service")
    await client_assertion.verify(_sign(claims), other, _check(store), NOW)


async def test_a_client_without_keys_cannot_use_an_assertion() -> None:
    assert "no registered public keys" in await _refused(_sign(), make_client(identifier=CLIENT_ID))


@pytest.mark.parametrize("sub", ["a\x00b", "x" * 3000])
def test_a_sub_that_cannot_be_a_client_id_is_not_looked_up(sub: str) -> None:
    with pytest.raises(InvalidClient, match="sub is not a client_id"):
        client_assertion.claimed_client_id(_sign(_claims(sub=sub)))


async def test_not_a_jwt() -> None:
    assert "not a signed JWT" in await _refused("not-a-jwt")


# --- client_auth: parsing and the choice of method ----------------------------------------


def test_parse_reads_the_assertion_and_its_client() -> None:
    """RFC 7521 section 4.2: client_id is optional; the assertion names the client."""
    assertion = _sign()
    credentials = client_auth.parse(None, {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})
    assert (credentials.client_id, credentials.method, credentials.assertion) == (CLIENT_ID, PRIVATE_KEY_JWT, assertion)


def test_a_different_client_id_is_refused() -> None:
    """RFC 7521 section 4.2: client_id "MUST identify the same client" as the assertion."""
    body = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _sign(), "client_id": "other"}
    with pytest.raises(ClientAuthenticationFailed, match="name different clients"):
        client_auth.parse(None, body)


def test_an_assertion_with_a_secret_is_two_methods() -> None:
    """RFC 6749 section 2.3: "MUST NOT use more than one authentication method in each request"."""
    body = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _sign(), "client_secret": SECRET}
    with pytest.raises(InvalidRequest, match="one authentication method"):
        client_auth.parse(None, body)


def test_an_unknown_assertion_type() -> None:
    """RFC 7523 section 2.2: the type is urn:ietf:params:oauth:client-assertion-type:jwt-bearer."""
    body = {"client_assertion_type": "urn:example:saml", "client_assertion": _sign()}
    with pytest.raises(ClientAuthenticationFailed, match="client_assertion_type must be"):
        client_auth.parse(None, body)


def test_a_client_with_keys_may_not_use_a_secret() -> None:
    """A registered key set makes private_key_jwt the client's only method."""
    credentials = client_auth.parse(None, {"client_id": CLIENT_ID, "client_secret": SECRET})
    with pytest.raises(ClientAuthenticationFailed, match="authenticates with private_key_jwt"):
        client_auth.authenticate(_client(), credentials, now=NOW)


def _by_hand(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An ES256 assertion signed without joserfc's checks on what it writes: Python's json
    writes NaN, Infinity, integers of any length and lone surrogates (as \\ud800)."""
    from joserfc.jws import JWSRegistry
    from joserfc.util import urlsafe_b64encode

    encoded = [urlsafe_b64encode(json.dumps(part).encode("ascii")) for part in (header, claims)]
    signing_input = b".".join(encoded)
    signature = JWSRegistry().get_alg("ES256").sign(signing_input, EC_KEY)
    return (signing_input + b"." + urlsafe_b64encode(signature)).decode("ascii")


@pytest.mark.parametrize(
    ("name", "value"),
    [("exp", float("nan")), ("exp", 10**400), ("iat", -(10**400)), ("nbf", float("inf")), ("sub", "\ud800")],
)
async def test_claims_that_are_not_json_are_refused(name: str, value: Any) -> None:
    """RFC 7519 section 2 / RFC 8259: a NumericDate is a JSON number. NaN and Infinity are
    not JSON, an integer of 400 digits is no time, and a lone surrogate is no text: each
    is refused as a payload that is not JSON (an exp of NaN would otherwise never expire,
    and a sub of a lone surrogate could not even be looked up)."""
    assertion = _by_hand({"alg": "ES256", "kid": EC_KEY.kid}, _claims(**{name: value}))
    assert "JSON object of claims" in await _refused(assertion)
    with pytest.raises(InvalidClient, match="JSON object of claims"):
        client_assertion.claimed_client_id(assertion)


async def test_a_critical_header_extension_is_refused_as_such() -> None:
    """RFC 7515 section 4.1.11: an extension listed in crit that the recipient does not
    understand makes the JWS invalid; the refusal names crit, not the signature."""
    assertion = _by_hand({"alg": "ES256", "kid": EC_KEY.kid, "crit": ["x-ext"], "x-ext": 1}, _claims())
    assert "crit" in await _refused(assertion)


async def test_a_large_header_and_unknown_header_parameters_are_accepted() -> None:
    """A header carrying an x5c chain is longer than joserfc's default limit (512 bytes);
    a header parameter that is not marked critical is ignored (RFC 7515 section 4)."""
    chain = [base64.b64encode(b"c" * 900).decode("ascii")]
    header = {"alg": "ES256", "kid": EC_KEY.kid, "x5c": chain, "x-private": "ignored"}
    await client_assertion.verify(_by_hand(header, _claims()), _client(), _check(), NOW)
