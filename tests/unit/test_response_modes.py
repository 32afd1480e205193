"""tessera/protocol/response_modes.py: RFC 6749 sections 3.1.2, 4.1.2, 4.1.2.1 and 4.2.2; OAuth 2.0 Multiple
Response Type Encoding Practices section 2.1."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tessera.protocol.authorization_trust import Reply
from tessera.protocol.response_modes import redirect_location
from tests.unit.builders import vector

RFC6749 = vector("rfc6749_examples")
RFC8252 = vector("rfc8252_examples")


def test_rfc6749_authorization_response_example() -> None:
    """RFC 6749 section 4.1.2: "Location: https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"."""
    example = RFC6749["authorization_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    location = redirect_location(reply, {"code": example["code"], "state": example["state"]})
    assert location == example["location"]


def test_rfc6749_error_response_example() -> None:
    """RFC 6749 section 4.1.2.1: "Location: https://client.example.com/cb?error=access_denied&state=xyz"."""
    example = RFC6749["error_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    assert redirect_location(reply, {"error": example["error"], "state": example["state"]}) == example["location"]


def test_rfc6749_implicit_response_example_in_the_fragment() -> None:
    """RFC 6749 section 4.2.2: the implicit response is in the fragment of the redirect URI."""
    example = RFC6749["implicit_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="fragment", state="xyz")
    assert redirect_location(reply, dict(example["params"])) == example["location"]


def test_query_is_appended_to_the_registered_query() -> None:
    """RFC 6749 section 3.1.2: the endpoint URI "MAY include an application/x-www-form-urlencoded formatted
    query component, which MUST be retained when adding additional query parameters"."""
    reply = Reply(redirect_uri="https://app.example.com/cb?tenant=7&lang=de", response_mode="query", state=None)
    location = redirect_location(reply, {"code": "tsc_abc"})
    assert location == "https://app.example.com/cb?tenant=7&lang=de&code=tsc_abc"


def test_fragment_mode_leaves_the_registered_query_alone() -> None:
    """RFC 6749 section 4.2.2 / Multiple Response Type Encoding Practices 2.1: parameters go in the fragment;
    the redirect URI's own query stays as it is."""
    reply = Reply(redirect_uri="https://app.example.com/cb?tenant=7", response_mode="fragment", state=None)
    location = redirect_location(reply, {"access_token": "tsa_abc", "token_type": "bearer"})
    assert location == "https://app.example.com/cb?tenant=7#access_token=tsa_abc&token_type=bearer"


def test_values_are_form_urlencoded_and_cannot_inject_parameters() -> None:
    """RFC 6749 Appendix B: parameters are application/x-www-form-urlencoded; a state holding '&' or '=' stays one value."""
    reply = Reply(redirect_uri="https://app.example.com/cb", response_mode="query", state=None)
    location = redirect_location(reply, {"code": "tsc_abc", "state": "a b&code=evil#x"})
    assert location == "https://app.example.com/cb?code=tsc_abc&state=a+b%26code%3Devil%23x"
    assert parse_qsl(urlsplit(location).query) == [("code", "tsc_abc"), ("state", "a b&code=evil#x")]


def test_native_app_private_use_scheme() -> None:
    """RFC 8252 section 7.1: the response goes to com.example.app:/... with the parameters in the query."""
    native = RFC8252["private_use_scheme"]["redirect_uri"]
    reply = Reply(redirect_uri=native, response_mode="query", state=None)
    assert redirect_location(reply, {"code": "tsc_abc"}) == native + "?code=tsc_abc"


def test_loopback_uri_keeps_its_port() -> None:
    """RFC 8252 section 7.3: the response goes to the port the native app listens on."""
    requested = RFC8252["loopback_ipv6"]["requested"]
    reply = Reply(redirect_uri=requested, response_mode="query", state=None)
    assert redirect_location(reply, {"code": "tsc_abc"}) == requested + "?code=tsc_abc"
