"""How long a fetched document may be reused: RFC 9111 sections 4.2.1 and 5.2.2, within
Tessera's bounds (draft-ietf-oauth-client-id-metadata-document-00 section 4.4: the server
"SHOULD respect HTTP cache headers [RFC9111] when caching client metadata, but MAY define
its own upper and/or lower bounds on an acceptable cache lifetime").

- `Cache-Control: no-store` or `no-cache`: not reused (fetched again on the next use).
- `Cache-Control: max-age=N`: N seconds less the response's `Age`.
- else `Expires`: its distance from the response's `Date` (or from now); an invalid date
  means already expired (section 5.3).
- none of them: DEFAULT_LIFETIME (a heuristic lifetime, as section 4.2.2 allows for 200).
Never more than MAX_LIFETIME.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

MAX_LIFETIME = 3600.0
DEFAULT_LIFETIME = 300.0


def _directives(value: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            directives.setdefault(name.strip().lower(), argument.strip().strip('"'))
    return directives


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 12 else None


def lifetime(headers: Mapping[str, str], now: float) -> float:
    """Seconds from now that the response may be reused, 0 to MAX_LIFETIME."""
    directives = _directives(headers.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    if "max-age" in directives:
        max_age = _seconds(directives["max-age"])
        if max_age is None:
            return 0.0  # section 4.2.1: an invalid max-age makes the response stale
        age = _seconds(headers.get("age", "0")) or 0
        return float(min(max(max_age - age, 0), MAX_LIFETIME))
    if "expires" in headers:
        expires = _http_date(headers.get("expires"))
        if expires is None:
            return 0.0
        date = _http_date(headers.get("date"))
        return min(max(expires - (now if date is None else date), 0.0), MAX_LIFETIME)
    return DEFAULT_LIFETIME
