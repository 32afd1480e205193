"""tessera/protocol/errors.py: RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750 section 3.1, OIDC Core 3.1.2.6."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.protocol import errors
from tests.unit.builders import PROPERTY

# RFC 6749 section 5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
NQSCHAR_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*\Z")
CAP = 600


@pytest.mark.parametrize(
    ("cls", "code", "status"),
    [
        (errors.InvalidRequest, "invalid_request", 400),
        (errors.InvalidClient, "invalid_client", 401),
        (errors.InvalidGrant, "invalid_grant", 400),
        (errors.UnauthorizedClient, "unauthorized_client", 400),
        (errors.UnsupportedGrantType, "unsupported_grant_type", 400),
        (errors.UnsupportedResponseType, "unsupported_response_type", 400),
        (errors.InvalidScope, "invalid_scope", 400),
        (errors.AccessDenied, "access_denied", 403),
        (errors.ServerError, "server_error", 500),
        (errors.TemporarilyUnavailable, "temporarily_unavailable", 503),
        (errors.LoginRequired, "login_required", 400),
        (errors.ConsentRequired, "consent_required", 400),
        (errors.InteractionRequired, "interaction_required", 400),
        (errors.InvalidToken, "invalid_token", 401),
    ],
)
def test_each_class_carries_its_rfc_error_code_and_status(cls: type[errors.OAuthError], code: str, status: int) -> None:
    """RFC 6749 sections 4.1.2.1 and 5.2 (400, invalid_client 401), RFC 6750 section 3.1
    (invalid_token 401), OIDC Core 3.1.2.6 (login_required, consent_required ...)."""
    error = cls("what to fix")
    assert isinstance(error, errors.OAuthError)
    assert error.error == code
    assert error.status_code == status
    assert error.as_dict() == {"error": code, "error_description": "what to fix"}


def test_insufficient_scope_is_403_and_names_the_scope() -> None:
    """RFC 6750 section 3.1: insufficient_scope answers 403 and may carry the scope needed."""
    error = errors.InsufficientScope("needs tickets:write", scope="tickets:write")
    assert (error.error, error.status_code, error.scope) == ("insufficient_scope", 403, "tickets:write")
    assert error.as_dict() == {"error": "insufficient_scope", "error_description": "needs tickets:write"}


def test_debug_text_stays_out_of_the_public_body() -> None:
    """RFC 6749 section 5.2: the body holds error and error_description; debug is for the log only."""
    error = errors.InvalidGrant("the code expired", debug="code id 991 expired at 1700000000")
    assert error.debug == "code id 991 expired at 1700000000"
    assert "991" not in str(error.as_dict())


def test_description_folds_double_quote_and_backslash() -> None:
    """RFC 6749 section 5.2 excludes %x22 (") and %x5C (\\) from error_description."""
    assert errors.safe_description('use "S256" not C:\\plain') == "use 'S256' not C:/plain"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("café", "caf?"),
        ("na\u00efve \u2603", "na?ve ?"),
        ("line one\nline two", "line one?line two"),
        ("tab\there\r", "tab?here?"),
        ("del\x7f", "del?"),
        ("nul\x00", "nul?"),
        ("emoji \U0001f600 end", "emoji ? end"),
    ],
)
def test_description_folds_characters_outside_printable_ascii(raw: str, folded: str) -> None:
    """RFC 6749 section 5.2: error_description MUST NOT include characters outside %x20-21 / %x23-5B / %x5D-7E."""
    assert errors.safe_description(raw) == folded


def test_description_keeps_every_allowed_character() -> None:
    """RFC 6749 section 5.2: the allowed set passes through unchanged."""
    allowed = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
    assert len(allowed) == 93
    assert errors.safe_description(allowed) == allowed


def test_description_is_capped_in_length() -> None:
    """A description cannot flood a response: at most 600 characters, cut with '...'."""
    exactly = "a" * CAP
    assert errors.safe_description(exactly) == exactly
    cut = errors.safe_description("b" * 597 + "XYZW")
    assert len(cut) == CAP
    assert cut == "b" * 597 + "..."


def test_constructor_folds_the_description() -> None:
    """RFC 6749 section 5.2: whatever a raiser passes, the public description is safe."""
    error = errors.InvalidRequest('redirect_uri "https://é.example" \\ bad')
    assert error.description == "redirect_uri 'https://?.example' / bad"
    assert error.as_dict()["error_description"] == "redirect_uri 'https://?.example' / bad"


@PROPERTY
@given(st.text(max_size=1_500))
def test_any_description_ends_up_in_the_rfc_character_set(text: str) -> None:
    """RFC 6749 section 5.2 (property): any input folds into NQSCHAR text of at most 600 characters."""
    folded = errors.safe_description(text)
    assert NQSCHAR_TEXT.match(folded)
    assert len(folded) <= CAP


@PROPERTY
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=CAP))
def test_safe_descriptions_pass_unchanged(text: str) -> None:
    """RFC 6749 section 5.2 (property): a description already in the allowed set is not altered."""
    assert errors.safe_description(text) == text


def test_echo_quotes_and_shortens_a_callers_value() -> None:
    """A caller's value inside a description is quoted and cut at 60 characters."""
    assert errors.echo("abc") == "'abc'"
    assert errors.echo("x" * 100) == "'" + "x" * 60 + "...'"


# --- refuse_repeated(): RFC 6749 section 3.1, one rule for every endpoint ---------------------


def test_refuse_repeated_accepts_single_parameters() -> None:
    errors.refuse_repeated(frozenset(), "RFC 6749 section 3.1")


def test_refuse_repeated_names_the_parameter_and_the_section() -> None:
    """RFC 6749 section 3.1: parameters "MUST NOT be included more than once"."""
    with pytest.raises(errors.InvalidRequest) as caught:
        errors.refuse_repeated(frozenset({"scope"}), "RFC 7009 section 2.1")
    assert caught.value.error == "invalid_request"
    assert caught.value.description == "the parameter 'scope' was sent more than once (RFC 7009 section 2.1)"


def test_refuse_repeated_names_one_parameter_the_same_way_every_time() -> None:
    """Several repeats: the first by name, so the answer does not depend on set order."""
    with pytest.raises(errors.InvalidRequest, match="'code' was sent"):
        errors.refuse_repeated(frozenset({"state", "code", "scope"}), "RFC 6749 section 3.2")


def test_refuse_repeated_cuts_a_long_name_short() -> None:
    with pytest.raises(errors.InvalidRequest) as caught:
        errors.refuse_repeated(frozenset({"x" * 500}), "RFC 6749 section 3.1")
    # echo() keeps 60 characters of a caller's value; the 500 sent do not flood the answer.
    assert "x" * 60 + "..." in caught.value.description
    assert "x" * 61 not in caught.value.description
