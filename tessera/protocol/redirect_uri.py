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

from tessera.reasons import R_, Reason

MAX_LENGTH = 2000
# Control characters: PostgreSQL refuses NUL in text, and none belongs in a URL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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


def problem(uri: str) -> Reason | None:
    """Why `uri` cannot be registered, or None when it can: the one rule set for every
    client, whether an admin registered it or its metadata document names it."""
    if not uri or uri != uri.strip() or any(c.isspace() for c in uri):
        return R_("a redirect URI may not be empty or contain spaces")
    if len(uri) > MAX_LENGTH:
        return R_("a redirect URI may be at most %(limit)s characters", limit=MAX_LENGTH)
    if _CONTROL.search(uri):
        return R_("%(uri)s may not contain control characters", uri=repr(uri[:80]))
    parts = _split(uri)
    if parts is None:
        return R_("%(uri)s cannot be parsed (check the port: it must be a number up to 65535)", uri=repr(uri))
    if not parts.scheme:
        return R_("%(uri)s is not an absolute URI (it needs a scheme such as https://)", uri=repr(uri))
    if "#" in uri:
        return R_("%(uri)s has a fragment; redirect URIs may not (RFC 6749 section 3.1.2)", uri=repr(uri))
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            return R_("%(uri)s has no host", uri=repr(uri))
        if parts.username is not None or parts.password is not None:
            return R_("%(uri)s carries user information; remove the user:password@ part", uri=repr(uri))
        if scheme == "http" and not _is_local_host(parts.hostname):
            return R_(
                "%(uri)s uses http; use https (http is allowed only for localhost and loopback addresses)",
                uri=repr(uri),
            )
        return None
    if _PRIVATE_USE_SCHEME.match(scheme):
        return None  # RFC 8252 section 7.1: com.example.app:/callback
    return R_(
        "%(uri)s uses the scheme %(scheme)s; use https, http on localhost, or a reverse-domain "
        "scheme such as com.example.app:/callback",
        uri=repr(uri),
        scheme=repr(scheme),
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
