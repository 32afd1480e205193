"""The OpenID Connect rules without HTTP: tessera/protocol/{id_token,discovery,userinfo,
jwt_access_tokens}.py against OIDC Core 1.0 (sections 2, 3.1.3.6, 3.3.2.11, 5.1, 5.4 and
Appendix A), OIDC Discovery 1.0 section 3, RFC 8414 section 2, RFC 9068 section 2 and
RFC 7519 section 3.1. Expected values are literals (tests/vectors/oidc_core.json) or
computed here with hashlib, never by the code under test.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tessera.model import User
from tessera.protocol import discovery, id_token, jwt_access_tokens, userinfo
from tessera.protocol.ports import LoadedKey
from tests.unit.builders import ISSUER, USER_ID, make_client, vector

OIDC = vector("oidc_core")


def _user(**overrides: object) -> User:
    fields: dict[str, object] = {
        "id": USER_ID,
        "account_id": 7,
        "email": "eve@example.com",
        "name": "Eve User",
        "role": "end-user",
        "password_hash": "$argon2id$unused",
        "created_at": 1_000.0,
        "updated_at": 1_234.9,
    }
    fields.update(overrides)
    return User(**fields)  # type: ignore[arg-type]


def _independent_half_hash(value: str) -> str:
    """OIDC Core 3.1.3.6 written out in the test: base64url(left 128 bits of SHA-256)."""
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode("ascii")).digest()[:16]).rstrip(b"=").decode()


# --- left_half_hash: OIDC Core Appendix A ------------------------------------------------


def test_at_hash_of_appendix_a3_access_token() -> None:
    """OIDC Core A.3: at_hash of the example access token under RS256 (SHA-256)."""
    assert id_token.left_half_hash(OIDC["at_hash"]["access_token"]) == OIDC["at_hash"]["at_hash"]


def test_c_hash_of_appendix_a4_code() -> None:
    """OIDC Core A.4 / 3.3.2.11: c_hash uses the same construction as at_hash."""
    assert id_token.left_half_hash(OIDC["c_hash"]["code"]) == OIDC["c_hash"]["c_hash"]


@pytest.mark.parametrize("value", ["tsa_" + "A" * 43, "x", "eyJhbGciOiJFUzI1NiJ9.e30.sig"])
def test_left_half_hash_is_22_characters_without_padding(value: str) -> None:
    """128 bits base64url-encoded without '=' padding (RFC 7515 section 2) is 22 characters."""
    result = id_token.left_half_hash(value)
    assert result == _independent_half_hash(value)
    assert len(result) == 22
    assert "=" not in result


# --- id_token.claims: OIDC Core section 2 ------------------------------------------------


def _claims(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "issuer": ISSUER,
        "client": make_client(),
        "user": _user(),
        "scopes": ("openid",),
        "now": 1_700_000_000.7,
        "auth_time": 1_699_999_000.2,
        "nonce": "n-0S6_WzA2Mj",
        "access_token": OIDC["at_hash"]["access_token"],
    }
    args.update(overrides)
    return id_token.claims(**args)  # type: ignore[arg-type]


def test_id_token_claims_for_openid_scope() -> None:
    """Section 2: iss, sub, aud, exp, iat, auth_time, nonce; 3.1.3.6: at_hash."""
    body = _claims()
    exp = body.pop("exp")
    assert body == {
        "iss": "https://acme.tessera.example",
        "sub": "3",
        "aud": "acme_web",
        "iat": 1_700_000_000,
        "auth_time": 1_699_999_000,
        "amr": ["pwd"],  # RFC 8176 section 2: password-based authentication
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
    }
    assert isinstance(exp, int)
    assert 1_700_000_000 < exp <= 1_700_000_000 + 86_400


def test_id_token_claims_without_nonce_or_access_token() -> None:
    """Section 2: nonce only when the request had one; at_hash only beside an access token."""
    body = _claims(nonce="", access_token=None)
    assert "nonce" not in body
    assert "at_hash" not in body


def test_id_token_claims_with_profile_and_email() -> None:
    """Section 5.4: the profile and email scopes add their claims."""
    body = _claims(scopes=("openid", "profile", "email"))
    assert body["name"] == "Eve User"
    assert body["preferred_username"] == "eve@example.com"
    assert body["updated_at"] == 1_234
    assert body["email"] == "eve@example.com"
    assert body["email_verified"] is False


# --- userinfo.claims: OIDC Core 5.1, 5.3.2, 5.4 ------------------------------------------


def test_userinfo_with_openid_only_is_just_sub() -> None:
    """Section 5.3.2: sub is always returned; nothing else without profile or email."""
    assert userinfo.claims(_user(), ("openid",)) == {"sub": "3"}


def test_userinfo_with_profile() -> None:
    assert userinfo.claims(_user(), ("openid", "profile")) == {
        "sub": "3",
        "name": "Eve User",
        "preferred_username": "eve@example.com",
        "updated_at": 1_234,
    }


def test_userinfo_with_email() -> None:
    """Section 5.1: email_verified is a boolean; Tessera does not verify emails."""
    assert userinfo.claims(_user(), ("openid", "email")) == {
        "sub": "3",
        "email": "eve@example.com",
        "email_verified": False,
    }


def test_userinfo_ignores_api_scopes() -> None:
    assert userinfo.claims(_user(id=12), ("openid", "read", "write", "tickets")) == {"sub": "12"}


# --- discovery.metadata: RFC 8414 section 2, OIDC Discovery section 3 --------------------

DISCOVERY_ISSUER = "https://acme.tessera.example"


def test_metadata_endpoints_for_a_literal_issuer() -> None:
    """INTERFACE.md section 4 paths under the issuer; RFC 8414 section 2 issuer as given."""
    doc = discovery.metadata(DISCOVERY_ISSUER)
    assert doc["issuer"] == "https://acme.tessera.example"
    assert doc["authorization_endpoint"] == "https://acme.tessera.example/oauth/authorizations/new"
    assert doc["token_endpoint"] == "https://acme.tessera.example/oauth/tokens"
    assert doc["revocation_endpoint"] == "https://acme.tessera.example/oauth/revoke"
    assert doc["introspection_endpoint"] == "https://acme.tessera.example/oauth/introspect"
    assert doc["userinfo_endpoint"] == "https://acme.tessera.example/oauth/userinfo"
    assert doc["jwks_uri"] == "https://acme.tessera.example/oauth/jwks"
    assert doc["end_session_endpoint"] == "https://acme.tessera.example/access/logout"


def test_metadata_with_a_port_in_the_issuer() -> None:
    doc = discovery.metadata("http://acme.localhost:8000")
    assert doc["issuer"] == "http://acme.localhost:8000"
    assert doc["token_endpoint"] == "http://acme.localhost:8000/oauth/tokens"
    assert doc["jwks_uri"] == "http://acme.localhost:8000/oauth/jwks"


def test_metadata_required_members_and_values() -> None:
    """OIDC Discovery 3 REQUIRED members; RFC 9207 section 3; RFC 7636 (S256 only)."""
    doc = discovery.metadata(DISCOVERY_ISSUER)
    for member in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert member in doc, member
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["code_challenge_methods_supported"] == ["S256"]
    # OIDC Discovery 3: "The value RS256 MUST be included."
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert "ES256" in doc["id_token_signing_alg_values_supported"]
    assert "none" not in doc["id_token_signing_alg_values_supported"]
    assert doc["subject_types_supported"] == ["public"]
    # OIDC Core 3.1.2.1: openid is the scope that makes a request an OpenID one.
    assert {"openid", "profile", "email", "offline_access", "read", "write"} <= set(doc["scopes_supported"])
    # private_key_jwt: RFC 7523, INTERFACE.md section 10.
    methods = {"client_secret_basic", "client_secret_post", "none", "private_key_jwt"}
    assert set(doc["token_endpoint_auth_methods_supported"]) == methods
    assert set(doc["response_types_supported"]) == {"code", "token"}


# --- jwt_access_tokens.looks_like_jwt ----------------------------------------------------


def test_the_rfc7519_example_looks_like_a_jwt() -> None:
    """RFC 7519 section 3.1: a compact JWS has three base64url parts, the header '{"...'."""
    assert jwt_access_tokens.looks_like_jwt(OIDC["jwt"]["token"]) is True


@pytest.mark.parametrize(
    "value",
    [
        "tsa_" + "Zx9" * 14,  # an opaque access token (INTERFACE.md section 3)
        "tsr_" + "Zx9" * 14,
        "",
        "a.b.c",  # three parts, but no JSON object header
        "eyJhbGciOiJFUzI1NiJ9.e30",  # two parts
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ciphertext.tag",  # a compact JWE: five parts
    ],
)
def test_values_that_are_not_jwts(value: str) -> None:
    assert jwt_access_tokens.looks_like_jwt(value) is False


# --- jwt_access_tokens.jti_of and id_token.audience_of_hint: RFC 9068 section 4 ----------


def _test_key(kid: str = "unit-kid") -> LoadedKey:
    key = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"}, private=True)
    return LoadedKey(kid=kid, alg="ES256", key=key)


def _published(*keys: LoadedKey) -> KeySet:
    return KeySet.import_key_set({"keys": [k.key.as_dict(private=False) for k in keys]})


def test_jti_of_a_token_this_issuer_signed() -> None:
    key = _test_key()
    token = jwt_access_tokens.encode(
        key,
        issuer=ISSUER,
        client=make_client(),
        user_id=USER_ID,
        scopes=("read",),
        jti="jti-1",
        now=1_000.0,
        expires_at=1_300.0,
        audience=ISSUER + "/api/v2",
    )
    assert jwt_access_tokens.jti_of(token, _published(key), ISSUER) == "jti-1"
    # Another issuer's claim, or a key that is not published: not ours.
    assert jwt_access_tokens.jti_of(token, _published(key), "https://other.tessera.example") is None
    assert jwt_access_tokens.jti_of(token, _published(_test_key("other-kid")), ISSUER) is None


def test_jti_of_refuses_a_jwt_without_the_at_jwt_type() -> None:
    """RFC 9068 section 4: resource servers "MUST verify that the typ header value is
    at+jwt", which keeps an ID token (typ JWT) from being used as an access token."""
    key = _test_key()
    body = {"iss": ISSUER, "sub": "3", "jti": "jti-2", "exp": 2_000, "iat": 1_000}
    as_id_token = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "JWT"}, body, key.key)
    assert jwt_access_tokens.jti_of(as_id_token, _published(key), ISSUER) is None
    as_access_token = jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, body, key.key)
    assert jwt_access_tokens.jti_of(as_access_token, _published(key), ISSUER) == "jti-2"


def test_audience_of_hint() -> None:
    """RP-Initiated Logout 1.0 section 2: the OP checks that it issued the id_token_hint."""
    key = _test_key()
    signed = id_token.encode(key, {"iss": ISSUER, "aud": "acme_web", "sub": "3", "exp": 1, "iat": 0})
    assert id_token.audience_of_hint(signed, _published(key), ISSUER) == "acme_web"
    assert id_token.audience_of_hint(signed, _published(key), "https://other.tessera.example") is None
    assert id_token.audience_of_hint(signed, _published(_test_key("k2")), ISSUER) is None
    assert id_token.audience_of_hint("not-a-jwt", _published(key), ISSUER) is None
    listed = id_token.encode(key, {"iss": ISSUER, "aud": ["acme_web"], "sub": "3"})
    assert id_token.audience_of_hint(listed, _published(key), ISSUER) == "acme_web"
    several = id_token.encode(key, {"iss": ISSUER, "aud": ["acme_web", "acme_spa"], "sub": "3"})
    assert id_token.audience_of_hint(several, _published(key), ISSUER) is None
