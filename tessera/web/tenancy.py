"""Which account a request is for: the Host header (INTERFACE.md section 2).

`acme.BASE_DOMAIN[:port]` is account acme, the bare base domain is the platform host, and
anything else is not ours (404). The issuer is the account's origin as the client reached
it: scheme from settings, host and port from the request.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from starlette.requests import Request

from tessera.model import Account
from tessera.urls import origin
from tessera.web.headers import header
from tessera.web.services import Services


class NotAnAccount(Exception):
    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


@dataclass(frozen=True, slots=True)
class AccountHost:
    account: Account
    issuer: str


@dataclass(frozen=True, slots=True)
class PlatformHost:
    origin: str
    port: str  # ":8000" or ""


# RFC 3986 reg-name as DNS uses it, and a numeric port: the host becomes part of the
# issuer and of redirects, so anything else ("acme.localhost:1@evil.com") is refused.
_HOST = re.compile(r"([a-z0-9.-]{1,253})(?::([0-9]{1,5}))?")


def _split_host(request: Request) -> tuple[str, str]:
    return _parse_host(header(request, b"host") or "")


# Every request parses its Host header, and a node sees few distinct ones; refusals
# (exceptions) are not cached, so junk headers cannot fill the cache.
@functools.lru_cache(maxsize=1024)
def _parse_host(header: str) -> tuple[str, str]:
    raw = header.strip().lower()
    match = _HOST.fullmatch(raw)
    if match is None or (match.group(2) is not None and int(match.group(2)) > 65535):
        raise NotAnAccount(raw[:100])
    name, port = match.group(1), match.group(2)
    return name.rstrip("."), (":" + port if port else "")


def subdomain_of(name: str, base_domain: str) -> str | None:
    """The single label in front of the base domain, or None."""
    suffix = "." + base_domain
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    return label if label and "." not in label else None


async def resolve(request: Request, services: Services) -> AccountHost | PlatformHost:
    name, port = _split_host(request)
    scheme = services.settings.scheme
    if name == services.settings.base_domain:
        return PlatformHost(origin=origin(scheme, name + port), port=port)
    subdomain = subdomain_of(name, services.settings.base_domain)
    if subdomain is None:
        raise NotAnAccount(name)
    account = await services.stores.accounts.by_subdomain(subdomain)
    if account is None:
        raise NotAnAccount(name)
    return AccountHost(account=account, issuer=origin(scheme, name + port))


async def account_host(request: Request, services: Services) -> AccountHost:
    host = await resolve(request, services)
    if isinstance(host, PlatformHost):
        raise NotAnAccount(host.origin)
    return host
