"""The SSRF guard's rule: which IP addresses Tessera may connect to when a caller chose the
URL (draft-ietf-oauth-client-id-metadata-document-00 section 6.5: servers "SHOULD avoid
fetching any URLs using private or loopback addresses"; RFC 6890, special-purpose addresses).

Only globally routable unicast addresses pass. An IPv6 address that carries an IPv4 one
(IPv4-mapped ::ffff:a.b.c.d, 6to4 2002::/16, Teredo 2001::/32) is judged by the IPv4 address
as well, since connecting to it may reach that IPv4 host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address Tessera will not connect to; the message says which."""


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is where traffic goes
    return None


def _kind(address: IPAddress) -> str | None:
    """The special-purpose class of `address`, or None when it is globally routable unicast."""
    # Order: the most telling name first (127.0.0.1 is also "private" to the ipaddress module).
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "not globally routable"),
    )
    return next((name for matched, name in checks if matched), None)


def refusal(address: IPAddress) -> str | None:
    """Why Tessera will not connect to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # Connecting to ::ffff:a.b.c.d is connecting to a.b.c.d: that address decides.
        inner = _kind(address.ipv4_mapped)
        return None if inner is None else f"{address} is the {inner} IPv4 address {address.ipv4_mapped}"
    kind = _kind(address)
    embedded = _embedded_ipv4(address)
    if kind is None and embedded is not None:
        inner = _kind(embedded)
        if inner is not None:
            return f"{address} carries the {inner} IPv4 address {embedded}"
    return None if kind is None else f"{address} is a {kind} address"


def vet(addresses: Iterable[str]) -> list[str]:
    """The addresses a host resolved to, each allowed; AddressRefused if any one is not.

    All must pass, not just one: a name that answers with a public and a private address
    could otherwise be used to reach the private one on a later connection attempt.
    """
    vetted: list[str] = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
        reason = refusal(address)
        if reason is not None:
            raise AddressRefused(reason)
        vetted.append(str(address))
    if not vetted:
        raise AddressRefused("the host has no address")
    return vetted
