"""Reading form parameters at the edge (web/params.py): RFC 6749 section 3.1 rules, and
the fast path for bodies with nothing to decode, which must answer exactly as parse_qsl."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.protocol.errors import InvalidRequest
from tessera.web.params import MAX_FIELDS, _parse_urlencoded, _split_plain

PLAIN = st.text(alphabet=st.sampled_from(list("ab=&;x1 é\x00.-_~")), max_size=40)


@settings(max_examples=2000)
@given(PLAIN)
def test_the_plain_split_answers_as_parse_qsl(text: str) -> None:
    assert _split_plain(text) == parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")


def test_percent_and_plus_are_decoded() -> None:
    params = _parse_urlencoded("redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&scope=read+write")
    assert params.values == {"redirect_uri": "http://127.0.0.1/cb", "scope": "read write"}


def test_empty_values_count_as_omitted_and_repeats_are_reported_rfc6749_3_1() -> None:
    params = _parse_urlencoded("scope=&grant_type=a&grant_type=b&state")
    assert params.values == {"grant_type": "a"}
    assert params.repeated == frozenset({"grant_type"})


@pytest.mark.parametrize("text", ["a=1&" * MAX_FIELDS + "b=2", "a=%31&" * MAX_FIELDS + "b=2"])
def test_too_many_fields_are_refused_on_both_paths(text: str) -> None:
    with pytest.raises(InvalidRequest, match="Max number of fields exceeded"):
        _parse_urlencoded(text)


def test_nul_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="NUL"):
        _parse_urlencoded("scope=read\x00")


def test_resource_may_be_repeated_rfc8707_2() -> None:
    """RFC 8707 section 2: "Multiple resource parameters MAY be used"; they are kept, in
    order, joined by spaces (no absolute URI holds one), and not reported as repeated."""
    params = _parse_urlencoded("resource=https%3A%2F%2Fa.example%2F&resource=https://b.example/&scope=read")
    assert params.values["resource"] == "https://a.example/ https://b.example/"
    assert params.repeated == frozenset()
