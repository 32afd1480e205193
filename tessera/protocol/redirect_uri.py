"""Redirect URIs: RFC 6749 sections 3.1.2 and 10.6, RFC 8252 sections 7.1 and 7.3, RFC 9700 section 4.1.

Registration: an absolute URI without a fragment; https, or http on a loopback or
localhost host, or a native app's private-use scheme in reverse-domain form (RFC 8252
section 7.1). Matching: exact string comparison (RFC 9700 section 4.1.3), except that the
port of an http loopback IP literal may vary (RFC 8252 section 7.3).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import SplitResult, urlencode, urlsplit, urlunsplit

MAX_LENGTH = 2000
_PRIVATE_USE_SCHEME = re.compile(r"^[a-z][a-z0-9+\-]*(\.[a-z0-9+\-]+)+$")


class RedirectUriProblem(ValueError):
    """A redirect URI that cannot be registered; the message says why."""


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_local_host(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost") or _is_loopback_ip(host)


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return None
    return parts


def problem(uri: str) -> str | None:
    """Why `uri` cannot be registered, or None when it can."""
    if not uri or uri != uri.strip() or any(c.isspace() for c in uri):
        return "a redirect URI may not be empty or contain spaces"
    if len(uri) > MAX_LENGTH:
        return f"a redirect URI may be at most {MAX_LENGTH} characters"
    parts = _split(uri)
    if parts is None:
        return f"{uri!r} cannot be parsed (check the port: it must be a number up to 65535)"
    if not parts.scheme:
        return f"{uri!r} is not an absolute URI (it needs a scheme such as https://)"
    if "#" in uri:
        return f"{uri!r} has a fragment; redirect URIs may not (RFC 6749 section 3.1.2)"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"{uri!r} has no host"
        if parts.username is not None or parts.password is not None:
            return f"{uri!r} carries user information; remove the user:password@ part"
        if scheme == "http" and not _is_local_host(parts.hostname):
            return f"{uri!r} uses http; use https (http is allowed only for localhost and loopback addresses)"
        return None
    if _PRIVATE_USE_SCHEME.match(scheme):
        return None  # RFC 8252 section 7.1: com.example.app:/callback
    return (
        f"{uri!r} uses the scheme {scheme!r}; use https, http on localhost, or a reverse-domain "
        "scheme such as com.example.app:/callback"
    )


def https_or_loopback(uri: str) -> bool:
    """An https URI, or http on a loopback address or localhost (RFC 8252 sections 7.3 and
    8.3): what a client that registered itself without an admin may use. A private-use
    scheme is not: any app on the device could claim it."""
    parts = _split(uri)
    if parts is None or not parts.hostname:
        return False
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and _is_local_host(parts.hostname))


def validate(uri: str) -> str:
    reason = problem(uri)
    if reason is not None:
        raise RedirectUriProblem(reason)
    return uri


def _loopback_without_port(uri: str) -> tuple[str, str, str, str] | None:
    """A loopback URI without its port, or None. Anything urlsplit would quietly drop
    (tabs, line breaks, surrounding spaces) or that the port exception does not cover
    (user information) disqualifies it: only the port may differ (RFC 8252 section 7.3)."""
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return None
    parts = _split(uri)
    if parts is None or parts.scheme != "http" or parts.hostname is None:
        return None
    if parts.username is not None or parts.password is not None or not _is_loopback_ip(parts.hostname):
        return None
    return (parts.hostname, parts.path, parts.query, parts.fragment)


def matches(requested: str, registered: str) -> bool:
    if requested == registered:
        return True
    # RFC 8252 section 7.3: "The authorization server MUST allow any port to be specified
    # at the time of the request for loopback IP redirect URIs".
    loopback = _loopback_without_port(registered)
    return loopback is not None and loopback == _loopback_without_port(requested)


def resolve(requested: str | None, registered: tuple[str, ...]) -> str | None:
    """The redirect URI to use, or None when the request names none that is registered.

    RFC 6749 section 3.1.2.3: with exactly one registered URI the parameter may be omitted.
    """
    if requested is None:
        return registered[0] if len(registered) == 1 else None
    for candidate in registered:
        if matches(requested, candidate):
            return requested
    return None


def display_host(uri: str) -> str:
    """What the consent page names as the destination: the host, or the scheme of a native app."""
    parts = _split(uri)
    if parts is None:
        return uri
    return parts.netloc or (parts.scheme + ":")


def with_query(uri: str, params: Mapping[str, str]) -> str:
    """`uri` with `params` appended to its query.

    RFC 6749 section 3.1.2: the redirect URI's own query "MUST be retained when adding
    additional query parameters"; RP-Initiated Logout 1.0 section 3 adds `state` likewise.
    """
    encoded = urlencode(params)
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(query=f"{parts.query}&{encoded}" if parts.query else encoded))
