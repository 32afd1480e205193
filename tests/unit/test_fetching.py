"""Fetching client ID metadata documents safely (tessera/fetching): the SSRF guard
(draft-ietf-oauth-client-id-metadata-document-00 section 6.5, RFC 6890), the size limit
(section 6.6), the time limit, no redirects and 200 only (section 4), and caching per HTTP
headers (section 4.4, RFC 9111)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import pytest

from tessera.fetching import caching
from tessera.fetching.addresses import AddressRefused, refusal, vet
from tessera.fetching.http import FetchFailed, fetch_json
from tests.document_server import DocumentServer, Reply, document, running

# --- the address guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("0.0.0.0", "unspecified"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata services live here
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),  # limited broadcast
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT, RFC 6598
        ("192.0.2.1", "private"),  # documentation, TEST-NET-1
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),  # unique local
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_section_6_5_special_purpose_addresses_are_refused(address: str, kind: str) -> None:
    reason = refusal(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::ffff:169.254.169.254",  # IPv4-mapped link-local
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
    ],
)
def test_ipv6_addresses_carrying_a_special_ipv4_address_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_globally_routable_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_a_name_answering_one_private_address_among_public_ones_is_refused() -> None:
    """Every answer must pass: a connection attempt could otherwise fall through to the
    private one."""
    assert vet(["93.184.216.34", "2606:4700:4700::1111"]) == ["93.184.216.34", "2606:4700:4700::1111"]
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.7"):
        vet(["93.184.216.34", "10.0.0.7"])
    with pytest.raises(AddressRefused, match="loopback"):
        vet(["2606:4700:4700::1111", "::1"])
    with pytest.raises(AddressRefused, match="no address"):
        vet([])


# --- caching headers (RFC 9111) ----------------------------------------------------------------

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"cache-control": "max-age=600"}, 600),
        ({"cache-control": "public, max-age=600", "age": "100"}, 500),
        ({"cache-control": "max-age=600", "age": "900"}, 0),
        ({"cache-control": "max-age=86400"}, 3600),  # at most an hour
        ({"cache-control": "no-store"}, 0),
        ({"cache-control": "no-cache, max-age=600"}, 0),
        ({"cache-control": "max-age=soon"}, 0),  # section 4.2.1: invalid means stale
        (
            {"expires": "Fri, 15 Jan 2027 08:10:00 GMT", "date": "Fri, 15 Jan 2027 08:00:00 GMT"},
            600,
        ),
        ({"expires": "0"}, 0),  # section 5.3: an invalid date means already expired
        ({"cache-control": "max-age=60", "expires": "Fri, 15 Jan 2027 08:10:00 GMT"}, 60),  # max-age wins
        ({}, caching.DEFAULT_LIFETIME),
    ],
)
def test_section_4_4_lifetime_follows_the_caching_headers(headers: dict[str, str], seconds: float) -> None:
    assert caching.lifetime(headers, NOW) == seconds


def test_expires_without_date_counts_from_now() -> None:
    expires = "Thu, 01 Jan 1970 00:10:00 GMT"
    assert caching.lifetime({"expires": expires}, 300.0) == 300.0


# --- fetching over HTTP from a local server -------------------------------------------------


@pytest.fixture
def server() -> Iterator[DocumentServer]:
    yield from running()


async def _fetch(url: str, **options: object) -> object:
    params: dict[str, object] = {"time_limit": 3.0, "max_bytes": 5120, "allow_private": True, "now": time.time()}
    params.update(options)
    return await fetch_json(url, **params)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_document_is_fetched_with_accept_json_and_its_lifetime(server: DocumentServer) -> None:
    url = server.serve("/client.json", document("x"), headers={"Cache-Control": "max-age=120"})
    fetched = await _fetch(url)
    assert fetched.document == document("x")  # type: ignore[attr-defined]
    assert fetched.lifetime == 120  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_section_6_5_loopback_is_refused_unless_development_allows_it(server: DocumentServer) -> None:
    url = server.serve("/client.json", document("x"))
    with pytest.raises(FetchFailed, match=r"127\.0\.0\.1 is a loopback address"):
        await _fetch(url, allow_private=False)
    assert server.hits["/client.json"] == 0  # refused before connecting


@pytest.mark.anyio
async def test_the_connection_goes_to_the_address_that_was_vetted(server: DocumentServer) -> None:
    """The name is resolved once, by the guard, and the connection is made to that address
    while the request still names the URL's host: DNS cannot answer differently later."""
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    server.serve("/client.json", document("x"))
    url = f"http://documents.invalid:{server.port}/client.json"  # .invalid never resolves in real DNS
    fetched = await _fetch(url, resolve=resolve)
    assert fetched.document == document("x")  # type: ignore[attr-defined]
    assert lookups == ["documents.invalid"]
    assert server.host_headers[-1] == f"documents.invalid:{server.port}"


@pytest.mark.anyio
async def test_a_rebinding_answer_with_a_private_address_is_refused_before_connecting(server: DocumentServer) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]

    server.serve("/client.json", document("x"))
    with pytest.raises(FetchFailed, match="does not fetch from"):
        await _fetch(f"http://rebind.invalid:{server.port}/client.json", resolve=resolve, allow_private=False)
    assert server.hits["/client.json"] == 0


@pytest.mark.anyio
async def test_section_6_6_a_declared_length_over_the_limit_is_refused(server: DocumentServer) -> None:
    url = server.serve("/big.json", document("x", padding="p" * 6000))
    with pytest.raises(FetchFailed, match="the limit is 5120 bytes"):
        await _fetch(url)


@pytest.mark.anyio
async def test_section_6_6_a_streamed_body_is_cut_at_the_limit(server: DocumentServer) -> None:
    url = server.serve("/big.json", document("x", padding="p" * 60_000), chunked=True)
    with pytest.raises(FetchFailed, match="longer than the limit of 5120 bytes"):
        await _fetch(url)


@pytest.mark.anyio
async def test_a_server_that_stalls_is_given_up_on_at_the_time_limit(server: DocumentServer) -> None:
    url = server.serve("/slow.json", document("x"), delay=3.0)
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"did not arrive within 0\.3 seconds"):
        await _fetch(url, time_limit=0.3)
    assert time.monotonic() - started < 2.0


@pytest.mark.anyio
async def test_section_4_redirects_are_not_followed(server: DocumentServer) -> None:
    server.serve("/client.json", document("x"))
    url = server.serve_raw("/moved", Reply(b"", 302, {"Location": server.url("/client.json")}))
    with pytest.raises(FetchFailed, match=r"HTTP 302 \(redirects are not followed\)"):
        await _fetch(url)
    assert server.hits["/client.json"] == 0


@pytest.mark.anyio
async def test_section_4_only_200_is_a_document(server: DocumentServer) -> None:
    with pytest.raises(FetchFailed, match="HTTP 404"):
        await _fetch(server.url("/missing.json"))
    url = server.serve("/gone.json", document("x"), status=410)
    with pytest.raises(FetchFailed, match="HTTP 410"):
        await _fetch(url)


@pytest.mark.anyio
async def test_a_body_that_is_not_json_is_refused(server: DocumentServer) -> None:
    url = server.serve_raw("/page", Reply(b"<html>hello</html>", 200, {"Content-Type": "text/html"}))
    with pytest.raises(FetchFailed, match="not JSON"):
        await _fetch(url)


@pytest.mark.anyio
async def test_a_host_that_does_not_answer_is_a_clear_failure() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with pytest.raises(FetchFailed, match="the request failed") as failed:
        await _fetch("http://127.0.0.1:9/client.json", resolve=resolve)  # discard port: nothing listens
    assert failed.value.transient  # says nothing about the document: a saved client is kept
