"""tessera/protocol/bearer.py: RFC 6750 sections 2.1, 2.2, 2.3 and 3.1."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.protocol import bearer, scopes
from tessera.protocol.errors import InsufficientScope, InvalidRequest, InvalidToken
from tests.unit.builders import ACCOUNT_ID, OTHER_ACCOUNT_ID, PROPERTY, make_token, vector

RFC6750 = vector("rfc6750_examples")["authorization_header"]
B64TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"


# --- from_header() ---------------------------------------------------------------------------


def test_rfc6750_example_header() -> None:
    """RFC 6750 section 2.1: "Authorization: Bearer mF_9.B5f-4.1JqM"."""
    assert bearer.from_header(RFC6750["authorization"]) == RFC6750["token"]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    """RFC 7235 section 2.1 (auth-scheme is case-insensitive), as used by RFC 6750 section 2.1."""
    assert bearer.from_header(f"{scheme} tsa_abc") == "tsa_abc"


@pytest.mark.parametrize("header", [None, ""])
def test_no_header_is_no_token(header: str | None) -> None:
    """RFC 6750 section 3.1: a request without credentials gets a challenge without an error code."""
    assert bearer.from_header(header) is None


@pytest.mark.parametrize(
    "token",
    ["abc", "a-b.c_d~e+f/g", "tsa_Xy9", "abc=", "abc==", "0", "mF_9.B5f-4.1JqM", "++//"],
)
def test_b64token_syntax_accepted(token: str) -> None:
    """RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="."""
    assert bearer.from_header(f"Bearer {token}") == token


@pytest.mark.parametrize(
    "token",
    ["abc def", "a=b", "=abc", "=", 'a"b', "a,b", "a;b", "t\u00f8ken", "a\\b", "a*b", "a%20b"],
)
def test_b64token_syntax_refused(token: str) -> None:
    """RFC 6750 section 2.1: anything outside b64token is a malformed token: invalid_token (401)."""
    with pytest.raises(InvalidToken, match="malformed") as caught:
        bearer.from_header(f"Bearer {token}")
    assert caught.value.status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer    "])
def test_empty_bearer_is_refused(header: str) -> None:
    """RFC 6750 section 2.1: the scheme is followed by one b64token."""
    with pytest.raises(InvalidToken, match="empty or malformed"):
        bearer.from_header(header)


@pytest.mark.parametrize("header", ["Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", "Token tsa_abc", "tsa_abc"])
def test_other_scheme_is_refused_naming_the_bearer_form(header: str) -> None:
    """RFC 6750 section 2.1: the API takes "Authorization: Bearer TOKEN"; the error says so."""
    with pytest.raises(InvalidToken, match="Bearer TOKEN"):
        bearer.from_header(header)


@PROPERTY
@given(st.text(alphabet=B64TOKEN_CHARS, min_size=1, max_size=80), st.integers(min_value=0, max_value=3))
def test_every_b64token_is_read_back(body: str, padding: int) -> None:
    """RFC 6750 section 2.1 (property): any b64token after "Bearer " is the token."""
    token = body + "=" * padding
    assert bearer.from_header("Bearer " + token) == token


def test_token_outside_header_answer() -> None:
    """RFC 6750 sections 2.2-2.3: a token in the query or body of an API call is invalid_request naming the header."""
    error = bearer.refuse_token_outside_header("query string")
    assert isinstance(error, InvalidRequest)
    assert error.status_code == 400
    assert "query string" in error.description
    assert "Authorization: Bearer TOKEN" in error.description


# --- verify() --------------------------------------------------------------------------------


def test_live_token_is_returned() -> None:
    """RFC 6750 section 3.1: a known, unrevoked, unexpired token of this account is accepted."""
    token = make_token()
    assert bearer.verify(token, ACCOUNT_ID, now=2_799.5) is token


def test_unknown_token() -> None:
    """RFC 6750 section 3.1 invalid_token: a token that was never issued says so."""
    with pytest.raises(InvalidToken, match="never issued") as caught:
        bearer.verify(None, ACCOUNT_ID, now=1_500.0)
    assert (caught.value.error, caught.value.status_code) == ("invalid_token", 401)


def test_token_of_another_account() -> None:
    """RFC 6750 section 3.1 invalid_token: each account is its own issuer; its tokens work only there."""
    with pytest.raises(InvalidToken, match="another account"):
        bearer.verify(make_token(account_id=OTHER_ACCOUNT_ID), ACCOUNT_ID, now=1_500.0)


def test_revoked_token() -> None:
    """RFC 6750 section 3.1 / RFC 7009: a revoked token is invalid_token saying it was revoked."""
    with pytest.raises(InvalidToken, match="revoked"):
        bearer.verify(make_token(revoked_at=1_200.0), ACCOUNT_ID, now=1_500.0)


def test_expired_token_says_how_long_ago() -> None:
    """RFC 6750 section 3.1 invalid_token: expired, with the seconds since expiry (2800 -> 2890 is 90)."""
    with pytest.raises(InvalidToken, match="expired 90 seconds ago"):
        bearer.verify(make_token(), ACCOUNT_ID, now=2_890.0)


def test_token_is_expired_at_its_expiry_instant() -> None:
    """RFC 6749 section 4.2.2 expires_in is the lifetime: at created_at + lifetime the token is no longer valid."""
    with pytest.raises(InvalidToken, match="expired 0 seconds ago"):
        bearer.verify(make_token(), ACCOUNT_ID, now=2_800.0)


def test_legacy_token_never_expires() -> None:
    """INTERFACE.md section 3: a client may opt into Zendesk's legacy non-expiring tokens (expires_at None)."""
    token = make_token(expires_at=None)
    assert bearer.verify(token, ACCOUNT_ID, now=4_000_000_000.0) is token


# --- require_scope() -------------------------------------------------------------------------


def test_scope_present_passes() -> None:
    """RFC 6750 section 3.1: a token whose scopes reach the resource is not refused."""
    bearer.require_scope(("read",), "tickets:read")  # raises if refused
    bearer.require_scope(("tickets",), "tickets:write")  # raises if refused


def test_missing_scope_is_insufficient_scope_naming_it() -> None:
    """RFC 6750 section 3.1 insufficient_scope (403), naming the scope needed and the broader alternatives."""
    with pytest.raises(InsufficientScope) as caught:
        bearer.require_scope(("read", "users:write"), "tickets:write")
    error = caught.value
    assert (error.error, error.status_code, error.scope) == ("insufficient_scope", 403, "tickets:write")
    assert "tickets:write (or write, or tickets)" in error.description
    assert "the token has: read users:write" in error.description


def test_missing_scope_with_no_scopes_says_none() -> None:
    """RFC 6750 section 3.1: the description says what the token has, even when that is nothing."""
    with pytest.raises(InsufficientScope, match="the token has: none"):
        bearer.require_scope((), "openid")


def _suggested_alternatives(needed: str) -> list[str]:
    with pytest.raises(InsufficientScope) as caught:
        bearer.require_scope((), needed)
    suggested = re.search(r"\(or ([^)]*)\)", caught.value.description)
    assert suggested is not None
    return suggested.group(1).split(", or ")


@pytest.mark.parametrize("needed", ["tickets:read", "users:write", "hc:read"])
def test_insufficient_scope_suggestions_are_requestable_scopes(needed: str) -> None:
    """RFC 6750 section 3.1 / INTERFACE.md "every error says how to fix it": each alternative offered
    (e.g. `read`, `tickets`) is a scope the client can request."""
    alternatives = _suggested_alternatives(needed)
    assert len(alternatives) == 2
    for alternative in alternatives:
        assert scopes.validate((alternative,), ()) == (alternative,)


@pytest.mark.parametrize("needed", ["auditlogs:read", "any_channel:write", "web_widget:write"])
def test_insufficient_scope_suggests_only_real_scopes(needed: str) -> None:
    """RFC 6750 section 3.1 / INTERFACE.md "every error says how to fix it": the alternatives offered in the
    description must be scopes a client can request; `auditlogs`, `any_channel` and `web_widget` are not
    (read-only / write-only resources have no bare scope), so following the advice gets invalid_scope."""
    for alternative in _suggested_alternatives(needed):
        assert scopes.validate((alternative,), ()) == (alternative,)
