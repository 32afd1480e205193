"""tessera/protocol/pkce.py: RFC 7636 sections 4.1-4.6 and Appendix B; RFC 9700 section 2.1.1."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tessera.protocol import pkce
from tessera.protocol.errors import InvalidGrant, InvalidRequest
from tests.unit.builders import PROPERTY, vector

RFC = vector("rfc7636_appendix_b")
VERIFIER = RFC["code_verifier"]
CHALLENGE = RFC["code_challenge"]

# Literal S256 challenges for verifiers at the length bounds of RFC 7636 section 4.1,
# computed once with hashlib outside the code under test.
VERIFIER_43 = "0123456789" * 4 + "abc"
CHALLENGE_43 = "DksyTyvjKJMTgEpPXzLiaCJ1P325hYFdr6STK5uo-WM"
VERIFIER_128 = "-._~" * 32
CHALLENGE_128 = "wEN2Mh1i33jhevH7WF-NulA1aGJPY9l0zG2M4t8rhw4"

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def _independent_s256(verifier: str) -> str:
    """RFC 7636 section 4.2 written out in the test, as an oracle independent of pkce.s256."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


# --- RFC 7636 Appendix B ---------------------------------------------------------------


def test_s256_of_appendix_b_verifier_is_appendix_b_challenge() -> None:
    """RFC 7636 Appendix B: BASE64URL(SHA256(ASCII(verifier))) of the example verifier."""
    assert pkce.s256(VERIFIER) == CHALLENGE


def test_appendix_b_challenge_is_accepted_at_authorization() -> None:
    """RFC 7636 section 4.3 with Appendix B values: the challenge is recorded as sent."""
    assert pkce.parse_challenge(CHALLENGE, "S256", required=True) == CHALLENGE
    assert pkce.parse_challenge(CHALLENGE, "S256", required=False) == CHALLENGE


def test_appendix_b_verifier_redeems_appendix_b_challenge() -> None:
    """RFC 7636 section 4.6 with Appendix B values: the verifier matches; no error."""
    pkce.verify(VERIFIER, CHALLENGE)  # raises if refused


def test_a_different_well_formed_challenge_is_refused() -> None:
    """RFC 7636 section 4.6: values not equal -> invalid_grant (one character off at the end)."""
    near_miss = CHALLENGE[:-1] + ("N" if CHALLENGE[-1] != "N" else "O")
    with pytest.raises(InvalidGrant):
        pkce.verify(VERIFIER, near_miss)


def test_another_valid_verifier_is_refused() -> None:
    """RFC 7636 section 4.6: a verifier that hashes to another challenge -> invalid_grant."""
    with pytest.raises(InvalidGrant, match="does not match"):
        pkce.verify(VERIFIER_43, CHALLENGE)


# --- Authorization request: RFC 7636 sections 4.2-4.4 ------------------------------------


@pytest.mark.parametrize("required", [True, False])
def test_plain_is_refused_for_every_client(required: bool) -> None:
    """RFC 9700 section 2.1.1 (plain SHOULD NOT be used); INTERFACE: plain is invalid_request for every client."""
    with pytest.raises(InvalidRequest, match="S256") as caught:
        pkce.parse_challenge(VERIFIER, "plain", required=required)
    assert caught.value.error == "invalid_request"


@pytest.mark.parametrize("method", ["s256", "SHA256", "S512", "", "S256 "])
def test_other_methods_are_refused(method: str) -> None:
    """RFC 7636 section 4.3: code_challenge_method is S256 (method names are case-sensitive)."""
    with pytest.raises(InvalidRequest):
        pkce.parse_challenge(CHALLENGE, method, required=False)


def test_missing_method_means_plain_and_is_refused() -> None:
    """RFC 7636 section 4.3: a missing method "defaults to plain", which Tessera refuses."""
    with pytest.raises(InvalidRequest, match="code_challenge_method"):
        pkce.parse_challenge(CHALLENGE, None, required=False)


def test_method_without_challenge_is_refused() -> None:
    """RFC 7636 section 4.3: code_challenge_method without code_challenge is a malformed request."""
    with pytest.raises(InvalidRequest, match="without code_challenge"):
        pkce.parse_challenge(None, "S256", required=False)


def test_required_for_public_clients() -> None:
    """RFC 7636 section 4.4.1 / RFC 9700 section 2.1.1: a public client without a challenge -> invalid_request."""
    with pytest.raises(InvalidRequest, match="PKCE is required"):
        pkce.parse_challenge(None, None, required=True)


def test_optional_for_confidential_clients() -> None:
    """RFC 7636 section 4.3: without PKCE the code is recorded with no challenge ("")."""
    assert pkce.parse_challenge(None, None, required=False) == ""


@pytest.mark.parametrize(
    "challenge",
    [
        CHALLENGE[:42],  # too short
        CHALLENGE + "A",  # too long
        CHALLENGE[:42] + "=",  # padding is not base64url without padding
        CHALLENGE[:41] + "+/",  # base64, not base64url
        CHALLENGE[:42] + ".",  # unreserved, but never in an S256 output
        CHALLENGE[:42] + "~",
        "",
        " " * 43,
        CHALLENGE[:42] + "é",
    ],
)
def test_malformed_s256_challenge_is_refused(challenge: str) -> None:
    """RFC 7636 section 4.2: an S256 challenge is BASE64URL of 32 octets, 43 characters without padding."""
    with pytest.raises(InvalidRequest, match="43 base64url"):
        pkce.parse_challenge(challenge, "S256", required=False)


def test_challenge_with_trailing_newline_is_refused() -> None:
    """RFC 7636 section 4.2: a challenge with a trailing newline (code_challenge=...%0A) is not 43 base64url
    characters, and no verifier can ever match it; it must be refused at authorization."""
    with pytest.raises(InvalidRequest):
        pkce.parse_challenge(CHALLENGE + "\n", "S256", required=False)


# --- Token request: RFC 7636 sections 4.5-4.6, RFC 9700 section 2.1.1 ---------------------


def test_verifier_required_when_challenge_was_sent() -> None:
    """RFC 7636 section 4.6: the code carries a challenge, the token request no verifier -> invalid_grant."""
    with pytest.raises(InvalidGrant, match="code_verifier is required"):
        pkce.verify(None, CHALLENGE)


def test_downgrade_verifier_without_challenge_is_refused() -> None:
    """RFC 9700 section 2.1.1: a code_verifier for a code issued without code_challenge MUST be refused."""
    with pytest.raises(InvalidGrant, match="carried no code_challenge"):
        pkce.verify(VERIFIER, "")


def test_no_pkce_at_either_step_passes() -> None:
    """RFC 7636 section 4.6 does not apply when neither step used PKCE (confidential client)."""
    pkce.verify(None, "")  # raises if refused


@pytest.mark.parametrize(("verifier", "challenge"), [(VERIFIER_43, CHALLENGE_43), (VERIFIER_128, CHALLENGE_128)])
def test_verifier_length_bounds_are_inclusive(verifier: str, challenge: str) -> None:
    """RFC 7636 section 4.1: code_verifier = 43*128unreserved; 43 and 128 characters are valid."""
    assert len(verifier) in (43, 128)
    pkce.verify(verifier, challenge)  # raises if refused


@pytest.mark.parametrize(
    "verifier",
    [
        VERIFIER_43[:42],  # 42 characters
        VERIFIER_128 + "a",  # 129 characters
        VERIFIER[:42] + "+",  # not unreserved
        VERIFIER[:42] + "/",
        VERIFIER[:42] + "=",
        VERIFIER[:42] + " ",
        VERIFIER[:42] + "é",  # non-ASCII must be refused, not crash the ASCII encoding
        "",
    ],
)
def test_verifier_outside_charset_or_length_is_invalid_grant(verifier: str) -> None:
    """RFC 7636 section 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"."""
    with pytest.raises(InvalidGrant, match="43 to 128"):
        pkce.verify(verifier, CHALLENGE)


def test_verifier_with_trailing_newline_is_refused() -> None:
    """RFC 7636 section 4.1: a newline is not an unreserved character, so VERIFIER + "\\n" is not a valid
    code_verifier even when the challenge was computed over it. The literal is BASE64URL(SHA256(VERIFIER + "\\n")),
    computed with hashlib outside the code under test."""
    with pytest.raises(InvalidGrant):
        pkce.verify(VERIFIER + "\n", "AzV44Od887h21WZgjhInEFjKMEPzzLOPAksJ5Pf1eoc")


def test_authorization_errors_are_invalid_request_and_token_errors_invalid_grant() -> None:
    """RFC 7636 section 4.4.1 (authorization: invalid_request) vs section 4.6 (token: invalid_grant)."""
    with pytest.raises(InvalidRequest) as at_authorization:
        pkce.parse_challenge(CHALLENGE, "plain", required=False)
    with pytest.raises(InvalidGrant) as at_token:
        pkce.verify(VERIFIER_43, CHALLENGE)
    assert at_authorization.value.error == "invalid_request"
    assert at_token.value.error == "invalid_grant"
    assert not isinstance(at_token.value, InvalidRequest)


@PROPERTY
@given(st.text(alphabet=UNRESERVED, min_size=43, max_size=128))
def test_any_valid_verifier_redeems_its_own_challenge(verifier: str) -> None:
    """RFC 7636 sections 4.1-4.6 (property): every valid verifier matches BASE64URL(SHA256(verifier))."""
    challenge = _independent_s256(verifier)
    assert pkce.parse_challenge(challenge, "S256", required=True) == challenge
    pkce.verify(verifier, challenge)  # raises if refused


@PROPERTY
@given(
    st.text(alphabet=UNRESERVED, min_size=43, max_size=128),
    st.text(alphabet=UNRESERVED, min_size=43, max_size=128),
)
def test_a_verifier_redeems_no_other_verifiers_challenge(verifier: str, other: str) -> None:
    """RFC 7636 section 4.6 (property): a verifier matches only its own challenge."""
    assume(verifier != other)
    with pytest.raises(InvalidGrant):
        pkce.verify(verifier, _independent_s256(other))
