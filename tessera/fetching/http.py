"""Fetching a small JSON document from a URL a caller chose, with httpx, safely:
draft-ietf-oauth-client-id-metadata-document-00 sections 4 (200 only, no redirects), 6.5
(SSRF) and 6.6 (size).

- The host is resolved here, every address it answers with is vetted (addresses.py), and
  the connection goes to a vetted address: the TCP connect is pinned to what was checked,
  so a DNS answer that changes between the check and the connect (DNS rebinding) cannot
  swap in another address. TLS still verifies the certificate for the URL's host name (SNI
  and the Host header are the URL's), so pinning costs no authenticity.
- One deadline covers it all (resolving, connecting, TLS, reading): `time_limit` seconds.
- At most `max_bytes` are read; a larger body is refused without reading the rest. The
  body is asked for and read uncompressed, so a small compressed body cannot unpack into a
  large one.
- Redirects are not followed, and only 200 is a document.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache

import certifi
import httpcore
import httpx
import orjson

from tessera.fetching import caching
from tessera.fetching.addresses import AddressRefused, vet

# Resolves a host name (or IP literal) to the addresses to try, in order.
Resolve = Callable[[str, int], Awaitable[list[str]]]


class FetchFailed(Exception):
    """The document could not be fetched; the message says why, for the client's developer.
    `transient`: the host did not answer in time, could not be reached, or said it is busy
    or failing (a 5xx, 429), which says nothing about the document."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Fetched:
    document: object  # the parsed JSON
    lifetime: float  # seconds it may be reused (caching.py); 0: not at all


async def system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise httpcore.ConnectError(f"the host name {host} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _VettingBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets and connects in one step: the address connected to is one checked."""

    def __init__(self, resolve: Resolve, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolve = resolve
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port)
        if not self._allow_private:
            addresses = vet(addresses)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched from")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@cache
def _ssl_context() -> ssl.SSLContext:
    # Built once: loading the CA bundle takes milliseconds.
    return ssl.create_default_context(cafile=certifi.where())


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport over a connection pool whose network backend is the vetting one
    (httpx offers no parameter for it; tests/unit/test_fetching_http.py checks it is used)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(), max_connections=1, retries=0, network_backend=backend
        )


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchFailed(f"it is {int(declared)} bytes long; the limit is {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise FetchFailed(f"it is longer than the limit of {max_bytes} bytes")
    return bytes(body)


def _parse(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchFailed("its body is not JSON") from None


async def _get(client: httpx.AsyncClient, url: str, max_bytes: int, now: float) -> Fetched:
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            moved = " (redirects are not followed)" if 300 <= response.status_code < 400 else ""
            raise FetchFailed(
                f"it answered HTTP {response.status_code}{moved}; only 200 is a document",
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise FetchFailed("it was sent compressed although an uncompressed body was asked for")
        body = await _read_limited(response, max_bytes)
        return Fetched(_parse(body), caching.lifetime(response.headers, now))


async def fetch_json(
    url: str,
    *,
    time_limit: float,
    max_bytes: int,
    allow_private: bool,
    now: float,
    resolve: Resolve = system_resolve,
) -> Fetched:
    """GET `url` and parse its JSON body, or FetchFailed saying why."""
    transport = _PinnedTransport(_VettingBackend(resolve, allow_private))
    async with httpx.AsyncClient(
        transport=transport, follow_redirects=False, timeout=time_limit, trust_env=False
    ) as client:
        try:
            async with asyncio.timeout(time_limit):
                return await _get(client, url, max_bytes, now)
        except (TimeoutError, httpx.TimeoutException):
            raise FetchFailed(f"it did not arrive within {time_limit:g} seconds", transient=True) from None
        except AddressRefused as refused:
            raise FetchFailed(f"its host resolves to an address Tessera does not fetch from ({refused})") from None
        except (httpx.HTTPError, httpcore.ConnectError) as error:
            raise FetchFailed(f"the request failed ({_describe(error)})", transient=True) from None


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:200]
