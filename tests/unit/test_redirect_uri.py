"""tessera/protocol/redirect_uri.py: RFC 6749 sections 3.1.2 and 3.1.2.3, RFC 8252 sections 7.1 and 7.3,
RFC 9700 section 4.1.3 (exact matching)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.protocol import redirect_uri
from tests.unit.builders import PROPERTY, vector

RFC8252 = vector("rfc8252_examples")
V4 = RFC8252["loopback_ipv4"]
V6 = RFC8252["loopback_ipv6"]
NATIVE = RFC8252["private_use_scheme"]["redirect_uri"]


# --- Registration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/callback",
        "https://app.example.com:8443/cb?tenant=7",
        "HTTPS://APP.example.com/cb",
        "http://localhost/cb",
        "http://localhost:3000/cb",
        "http://app.localhost:8000/cb",
        "http://127.0.0.1/cb",
        "http://127.5.5.5/cb",
        V4["registered"],
        V4["requested"],
        V6["registered"],
        V6["requested"],
        NATIVE,
        "https://a.example/" + "x" * 1982,  # 2000 characters
    ],
)
def test_registrable_uris(uri: str) -> None:
    """RFC 6749 section 3.1.2 (absolute, no fragment), https or http on loopback/localhost (RFC 8252
    sections 7.3 and 8.3), RFC 8252 section 7.1 reverse-domain private-use schemes."""
    assert redirect_uri.problem(uri) is None
    assert redirect_uri.validate(uri) == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("/callback", "not an absolute URI"),
        ("app.example.com/callback", "not an absolute URI"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        ("com.example.app:/cb#x", "fragment"),
        ("http://app.example.com/cb", "use https"),
        ("http://10.0.0.1/cb", "use https"),
        ("http://0.0.0.0/cb", "use https"),
        ("http://localhost.evil.example/cb", "use https"),
        ("http://[::2]/cb", "use https"),
        ("https://user:pw@app.example.com/cb", "user information"),
        ("https://user@app.example.com/cb", "user information"),
        ("http://user@localhost/cb", "user information"),
        ("myapp:/cb", "reverse-domain"),
        ("javascript:alert(1)", "reverse-domain"),
        ("data:text/html,hi", "reverse-domain"),
        ("ftp://example.com/cb", "reverse-domain"),
        ("https:///cb", "no host"),
        ("", "empty"),
        (" https://app.example.com/cb", "spaces"),
        ("https://app.example.com/c b", "spaces"),
        ("https://app.example.com/cb\t", "spaces"),
        ("https://a.example/" + "x" * 1983, "at most 2000"),
    ],
)
def test_unregistrable_uris_say_why(uri: str, reason: str) -> None:
    """RFC 6749 section 3.1.2: absolute, no fragment; RFC 9700 section 4.1: no open redirectors via
    loose registration; INTERFACE.md section 3: https unless loopback/localhost."""
    problem = redirect_uri.problem(uri)
    assert problem is not None
    assert reason in problem
    with pytest.raises(redirect_uri.RedirectUriProblem) as caught:
        redirect_uri.validate(uri)
    assert isinstance(caught.value, ValueError)
    assert reason in str(caught.value)


# --- Matching ----------------------------------------------------------------------------


def test_exact_match() -> None:
    """RFC 9700 section 4.1.3: the requested URI equals the registered one."""
    assert redirect_uri.matches("https://app.example.com/callback", "https://app.example.com/callback")


@pytest.mark.parametrize(
    "requested",
    [
        "https://app.example.com/callback/",
        "https://app.example.com/Callback",
        "https://APP.example.com/callback",
        "https://app.example.com:443/callback",
        "https://app.example.com:8443/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com/callback#x",
        "https://app.example.com/callback/../callback",
        "https://app.example.com/%63allback",
        "http://app.example.com/callback",
        "https://app.example.com.evil.example/callback",
        "https://evil.example/callback",
        "https://app.example.com/callbackx",
    ],
)
def test_anything_else_than_the_exact_string_does_not_match(requested: str) -> None:
    """RFC 6749 section 3.1.2.3 / RFC 9700 section 4.1.3: simple string comparison, no normalisation."""
    assert not redirect_uri.matches(requested, "https://app.example.com/callback")


@pytest.mark.parametrize("example", [V4, V6], ids=["ipv4", "ipv6"])
def test_loopback_ip_port_may_vary(example: dict[str, str]) -> None:
    """RFC 8252 section 7.3: "MUST allow any port to be specified at the time of the request for loopback IP
    redirect URIs" (127.0.0.1 and [::1])."""
    assert redirect_uri.matches(example["requested"], example["registered"])


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://127.0.0.1:9999/cb", "http://127.0.0.1:8080/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb"),
        ("http://[::1]/cb", "http://[::1]:8080/cb"),
        ("http://127.0.0.1:1/cb?x=1", "http://127.0.0.1/cb?x=1"),
    ],
)
def test_loopback_port_varies_whatever_the_registered_port(requested: str, registered: str) -> None:
    """RFC 8252 section 7.3: the port is the only part that may differ, in either direction."""
    assert redirect_uri.matches(requested, registered)


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://localhost:5000/cb", "http://localhost/cb"),
        ("http://localhost:5000/cb", "http://localhost:3000/cb"),
        ("http://app.localhost:5000/cb", "http://app.localhost/cb"),
        ("https://app.example.com:8443/cb", "https://app.example.com/cb"),
        ("https://127.0.0.1:5000/cb", "https://127.0.0.1/cb"),
    ],
)
def test_port_does_not_vary_for_other_hosts(requested: str, registered: str) -> None:
    """RFC 8252 section 7.3 covers loopback IP literals only (section 8.3: localhost is NOT RECOMMENDED), and
    loopback redirect URIs use http; every other URI is compared exactly."""
    assert not redirect_uri.matches(requested, registered)


@pytest.mark.parametrize(
    ("requested", "registered"),
    [
        ("http://127.0.0.1:5000/other", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:5000/cb?x=1", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:5000/cb#x", "http://127.0.0.1/cb"),
        ("https://127.0.0.1:5000/cb", "http://127.0.0.1/cb"),
        ("http://[::1]:5000/cb", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:5000/cb", "http://[::1]/cb"),
        ("http://127.0.0.2:5000/cb", "http://127.0.0.1/cb"),
        ("http://localhost:5000/cb", "http://127.0.0.1/cb"),
        ("http://127.0.0.1:notaport/cb", "http://127.0.0.1/cb"),
    ],
)
def test_loopback_variance_is_only_the_port(requested: str, registered: str) -> None:
    """RFC 8252 section 7.3: scheme, IP literal, path and query must still be the registered ones."""
    assert not redirect_uri.matches(requested, registered)


def test_loopback_variance_does_not_admit_userinfo() -> None:
    """RFC 8252 section 7.3 lets only the port vary; INTERFACE: "must equal a registered URI exactly, except
    that the port of a loopback URI may vary". A requested URI with user information differs in more than
    the port."""
    assert not redirect_uri.matches("http://attacker@127.0.0.1:5000/cb", "http://127.0.0.1/cb")


@pytest.mark.parametrize(
    "requested", ["http://127.0.0.1:5000/c\tb", "http://127.0.0.1:5000/cb\n", " http://127.0.0.1:5000/cb"]
)
def test_loopback_variance_does_not_admit_whitespace(requested: str) -> None:
    """RFC 8252 section 7.3 lets only the port vary. Python's urlsplit silently removes tab, CR, LF and
    leading spaces, so comparing split parts accepts a requested string that differs in those characters
    (and resolve() then hands back the string with them)."""
    assert not redirect_uri.matches(requested, "http://127.0.0.1/cb")


@PROPERTY
@given(
    st.sampled_from(["app.example.com", "api.example.com", "example.org"]),
    st.sampled_from(["", ":8443", ":443"]),
    st.text(alphabet="/abc-_.%", max_size=8),
    st.sampled_from(["", "?x=1", "?x=2"]),
    st.sampled_from(["app.example.com", "api.example.com", "example.org"]),
    st.sampled_from(["", ":8443", ":443"]),
    st.text(alphabet="/abc-_.%", max_size=8),
    st.sampled_from(["", "?x=1", "?x=2"]),
)
def test_a_registered_https_uri_matches_only_itself(
    host: str, port: str, path: str, query: str, host2: str, port2: str, path2: str, query2: str
) -> None:
    """RFC 9700 section 4.1.3 (property): for https URIs, matches() is string equality."""
    registered = f"https://{host}{port}/{path}{query}"
    requested = f"https://{host2}{port2}/{path2}{query2}"
    assert redirect_uri.matches(requested, registered) is (requested == registered)
    assert redirect_uri.resolve(requested, (registered,)) == (registered if requested == registered else None)


@PROPERTY
@given(st.integers(min_value=1, max_value=65535), st.sampled_from(["127.0.0.1", "[::1]"]))
def test_any_port_is_allowed_on_a_loopback_ip(port: int, host: str) -> None:
    """RFC 8252 section 7.3 (property): every port of a loopback IP literal resolves, to the URI requested."""
    requested = f"http://{host}:{port}/oauth2redirect/example-provider"
    assert redirect_uri.resolve(requested, (f"http://{host}/oauth2redirect/example-provider",)) == requested


@PROPERTY
@given(st.integers(min_value=1, max_value=65535).filter(lambda p: p != 3000))
def test_no_other_port_is_allowed_on_localhost(port: int) -> None:
    """RFC 8252 sections 7.3 and 8.3 (property): localhost is a name, not a loopback IP literal; no variance."""
    assert redirect_uri.resolve(f"http://localhost:{port}/cb", ("http://localhost:3000/cb",)) is None


# --- resolve() -----------------------------------------------------------------------------


def test_resolve_omitted_with_one_registered_uses_it() -> None:
    """RFC 6749 section 3.1.2.3: with exactly one registered URI the parameter may be omitted."""
    assert redirect_uri.resolve(None, ("https://app.example.com/cb",)) == "https://app.example.com/cb"


def test_resolve_omitted_with_several_registered_is_none() -> None:
    """RFC 6749 section 3.1.2.3: with several registered URIs the client MUST include redirect_uri."""
    assert redirect_uri.resolve(None, ("https://a.example/cb", "https://b.example/cb")) is None


def test_resolve_omitted_with_none_registered_is_none() -> None:
    """RFC 6749 section 3.1.2.2: a client must register a redirect URI before it can be redirected to."""
    assert redirect_uri.resolve(None, ()) is None


def test_resolve_picks_the_requested_one_of_several() -> None:
    """RFC 6749 section 3.1.2.3: the requested URI is compared against each registered one."""
    registered = ("https://a.example/cb", "https://b.example/cb", "http://127.0.0.1/cb")
    assert redirect_uri.resolve("https://b.example/cb", registered) == "https://b.example/cb"
    assert redirect_uri.resolve("http://127.0.0.1:4321/cb", registered) == "http://127.0.0.1:4321/cb"
    assert redirect_uri.resolve("https://c.example/cb", registered) is None


def test_resolve_returns_the_requested_loopback_uri_with_its_port() -> None:
    """RFC 8252 section 7.3: the response goes to the port the app listens on, not the registered one."""
    assert redirect_uri.resolve(V4["requested"], (V4["registered"],)) == V4["requested"]


def test_display_host_names_the_destination() -> None:
    """The consent page names where the browser goes: host and port, or a native app's scheme."""
    assert redirect_uri.display_host("https://app.example.com:8443/cb?x=1") == "app.example.com:8443"
    assert redirect_uri.display_host(NATIVE) == "com.example.app:"


# --- with_query(): RFC 6749 section 3.1.2 ----------------------------------------------------


def test_with_query_adds_a_query() -> None:
    assert (
        redirect_uri.with_query("https://app.example.com/cb", {"state": "a b"})
        == "https://app.example.com/cb?state=a+b"
    )


def test_with_query_keeps_the_uris_own_query() -> None:
    """Section 3.1.2: the endpoint URI's query "MUST be retained when adding additional query parameters"."""
    found = redirect_uri.with_query("https://app.example.com/cb?lang=en", {"code": "c", "state": "&x="})
    assert found == "https://app.example.com/cb?lang=en&code=c&state=%26x%3D"


def test_with_query_keeps_port_and_path() -> None:
    assert redirect_uri.with_query("http://127.0.0.1:5000/a/b", {"k": "v"}) == "http://127.0.0.1:5000/a/b?k=v"
