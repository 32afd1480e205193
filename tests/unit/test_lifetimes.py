"""tessera/protocol/lifetimes.py: INTERFACE.md section 3 and "Token endpoint" (expires_in,
refresh_token_expires_in), RFC 6749 section 5.1, RFC 9700 section 4.14."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.protocol import lifetimes
from tessera.protocol.errors import InvalidRequest
from tessera.protocol.lifetimes import LifetimeOutOfRange, Lifetimes
from tests.unit.builders import PROPERTY, make_client

CLIENT = make_client(access_token_lifetime=1_800, refresh_token_lifetime=2_592_000)


def test_documented_bounds_and_defaults() -> None:
    """INTERFACE.md section 3: access 5 min to 48 h (default 30 min); refresh 7 to 90 days (default 30 days)."""
    assert (lifetimes.ACCESS_MIN, lifetimes.ACCESS_MAX, lifetimes.ACCESS_DEFAULT) == (300, 172_800, 1_800)
    assert (lifetimes.REFRESH_MIN, lifetimes.REFRESH_MAX, lifetimes.REFRESH_DEFAULT) == (604_800, 7_776_000, 2_592_000)


def test_without_parameters_the_client_defaults_apply() -> None:
    """INTERFACE.md "Token endpoint": expires_in and refresh_token_expires_in are optional."""
    assert lifetimes.requested({}, CLIENT) == Lifetimes(access=1_800, refresh=2_592_000)
    custom = make_client(access_token_lifetime=600, refresh_token_lifetime=1_209_600)
    assert lifetimes.requested({}, custom) == Lifetimes(access=600, refresh=1_209_600)


def test_empty_values_count_as_omitted() -> None:
    """RFC 6749 section 3.1: parameters sent without a value are treated as if omitted."""
    assert lifetimes.requested({"expires_in": "", "refresh_token_expires_in": ""}, CLIENT) == Lifetimes(
        1_800, 2_592_000
    )


@pytest.mark.parametrize("seconds", ["300", "301", "3600", "172799", "172800"])
def test_expires_in_within_bounds_inclusive_overrides_the_default(seconds: str) -> None:
    """INTERFACE.md "Token endpoint": expires_in 300 to 172,800 s inclusive overrides the client's default."""
    assert lifetimes.requested({"expires_in": seconds}, CLIENT) == Lifetimes(access=int(seconds), refresh=2_592_000)


@pytest.mark.parametrize("seconds", ["0", "1", "299", "172801", "604800"])
def test_expires_in_out_of_bounds_is_invalid_request_naming_the_bounds(seconds: str) -> None:
    """INTERFACE.md "Token endpoint": out of range -> invalid_request naming the bounds."""
    with pytest.raises(InvalidRequest) as caught:
        lifetimes.requested({"expires_in": seconds}, CLIENT)
    assert "300" in caught.value.description
    assert "172800" in caught.value.description
    assert "inclusive" in caught.value.description


@pytest.mark.parametrize("seconds", ["604800", "604801", "2592000", "7775999", "7776000"])
def test_refresh_token_expires_in_within_bounds_inclusive(seconds: str) -> None:
    """INTERFACE.md "Token endpoint": refresh_token_expires_in 604,800 to 7,776,000 s inclusive."""
    assert lifetimes.requested({"refresh_token_expires_in": seconds}, CLIENT) == Lifetimes(1_800, int(seconds))


@pytest.mark.parametrize("seconds", ["0", "172800", "604799", "7776001", "99999999"])
def test_refresh_token_expires_in_out_of_bounds(seconds: str) -> None:
    """INTERFACE.md "Token endpoint": out of range -> invalid_request naming the bounds."""
    with pytest.raises(InvalidRequest) as caught:
        lifetimes.requested({"refresh_token_expires_in": seconds}, CLIENT)
    assert "604800" in caught.value.description
    assert "7776000" in caught.value.description


def test_both_together() -> None:
    """INTERFACE.md "Token endpoint": both may be asked for in one request."""
    params = {"expires_in": "7200", "refresh_token_expires_in": "604800"}
    assert lifetimes.requested(params, CLIENT) == Lifetimes(access=7_200, refresh=604_800)


def test_refresh_must_outlive_access() -> None:
    """INTERFACE.md "Token endpoint": refresh_token_expires_in must be more than expires_in. With both inside
    their bounds this always holds (604,800 > 172,800); the guard bites when the effective access lifetime
    is the client's own and lies beyond the refresh value, as for this client built outside the bounds."""
    long_lived = make_client(access_token_lifetime=7_776_000)
    with pytest.raises(InvalidRequest, match="more than expires_in"):
        lifetimes.requested({"refresh_token_expires_in": "604800"}, long_lived)
    with pytest.raises(InvalidRequest, match="more than expires_in"):
        lifetimes.requested({"refresh_token_expires_in": "7776000"}, long_lived)


@pytest.mark.parametrize(
    "raw",
    [
        "1800.0",
        "1.8e3",
        "-300",
        "+300",
        " 300",
        "300 ",
        "0x12c",
        "3_600",
        "3600s",
        "\u0661\u0668\u0660\u0660",
        "１８００",
    ],
)
def test_only_whole_numbers_of_seconds_in_ascii_digits(raw: str) -> None:
    """INTERFACE.md "Token endpoint": numbers or numeric strings (JSON numbers arrive as their decimal
    string); anything else is invalid_request, not a crash or a silently different number."""
    for name in ("expires_in", "refresh_token_expires_in"):
        with pytest.raises(InvalidRequest, match="whole number of seconds"):
            lifetimes.requested({name: raw}, CLIENT)


def test_absurdly_long_number_is_refused_without_converting_it() -> None:
    """A 5,000-digit value is refused as not a number of seconds (no huge int conversion)."""
    with pytest.raises(InvalidRequest, match="whole number of seconds"):
        lifetimes.requested({"expires_in": "9" * 5_000}, CLIENT)


def test_legacy_client_never_expires() -> None:
    """INTERFACE.md section 3: a client may opt into Zendesk's legacy non-expiring tokens (access None)."""
    legacy = make_client(access_token_lifetime=None)
    assert lifetimes.requested({}, legacy) == Lifetimes(access=None, refresh=2_592_000)


def test_legacy_client_may_still_ask_for_an_expiring_token() -> None:
    """INTERFACE.md "Token endpoint": a request's expires_in inside the bounds overrides the default."""
    legacy = make_client(access_token_lifetime=None)
    assert lifetimes.requested({"expires_in": "3600"}, legacy) == Lifetimes(access=3_600, refresh=2_592_000)
    assert lifetimes.requested({"refresh_token_expires_in": "604800"}, legacy) == Lifetimes(None, 604_800)


@pytest.mark.parametrize("seconds", [300, 172_800])
def test_check_access_lifetime_bounds_inclusive(seconds: int) -> None:
    """INTERFACE.md section 3: a client's access token lifetime is 5 min to 48 h inclusive."""
    assert lifetimes.check_access_lifetime(seconds) == seconds


@pytest.mark.parametrize("seconds", [299, 172_801, 0, -1])
def test_check_access_lifetime_out_of_range(seconds: int) -> None:
    """INTERFACE.md section 1: an out-of-range lifetime is a domain mistake with a one-line reason."""
    with pytest.raises(LifetimeOutOfRange, match="300 to 172800") as caught:
        lifetimes.check_access_lifetime(seconds)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("seconds", [604_800, 7_776_000])
def test_check_refresh_lifetime_bounds_inclusive(seconds: int) -> None:
    """INTERFACE.md section 3: a client's refresh token lifetime is 7 to 90 days inclusive."""
    assert lifetimes.check_refresh_lifetime(seconds) == seconds


@pytest.mark.parametrize("seconds", [604_799, 7_776_001])
def test_check_refresh_lifetime_out_of_range(seconds: int) -> None:
    """INTERFACE.md section 1: an out-of-range lifetime is a domain mistake with a one-line reason."""
    with pytest.raises(LifetimeOutOfRange, match="604800 to 7776000"):
        lifetimes.check_refresh_lifetime(seconds)


@PROPERTY
@given(st.integers(min_value=0, max_value=10**9))
def test_expires_in_accepted_exactly_inside_the_bounds(seconds: int) -> None:
    """INTERFACE.md "Token endpoint" (property): 300 <= expires_in <= 172800 is accepted, anything else refused."""
    inside = 300 <= seconds <= 172_800
    try:
        result = lifetimes.requested({"expires_in": str(seconds)}, CLIENT)
    except InvalidRequest:
        assert not inside
    else:
        assert inside
        assert result.access == seconds


@PROPERTY
@given(st.integers(min_value=0, max_value=10**9))
def test_refresh_expires_in_accepted_exactly_inside_the_bounds(seconds: int) -> None:
    """INTERFACE.md "Token endpoint" (property): 604800 <= refresh_token_expires_in <= 7776000, else refused."""
    inside = 604_800 <= seconds <= 7_776_000
    try:
        result = lifetimes.requested({"refresh_token_expires_in": str(seconds)}, CLIENT)
    except InvalidRequest:
        assert not inside
    else:
        assert inside
        assert result.refresh == seconds
