"""Token lifetimes: INTERFACE.md section 3 and "Token endpoint", RFC 9700 section 4.14.

Bounds are Zendesk's: an access token lives 5 minutes to 48 hours (default 30 minutes),
a refresh token 7 to 90 days (default 30 days). A token request may ask for other
lifetimes inside those bounds with `expires_in` and `refresh_token_expires_in`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tessera.model import Client
from tessera.protocol.errors import InvalidRequest
from tessera.protocol.numbers import whole_number
from tessera.reasons import R_, Reason

ACCESS_MIN, ACCESS_MAX, ACCESS_DEFAULT = 300, 172_800, 1_800
REFRESH_MIN, REFRESH_MAX, REFRESH_DEFAULT = 604_800, 7_776_000, 2_592_000
JWT_ACCESS_DEFAULT = 300


class LifetimeOutOfRange(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason  # str(self) is the same English, without the Reason a page translates


def check_access_lifetime(seconds: int) -> int:
    if not ACCESS_MIN <= seconds <= ACCESS_MAX:
        raise LifetimeOutOfRange(
            R_(
                "access token lifetime must be %(minimum)s to %(maximum)s seconds (5 minutes to 48 hours), "
                "or 'never'; got %(seconds)s",
                minimum=ACCESS_MIN,
                maximum=ACCESS_MAX,
                seconds=seconds,
            )
        )
    return seconds


def check_refresh_lifetime(seconds: int) -> int:
    if not REFRESH_MIN <= seconds <= REFRESH_MAX:
        raise LifetimeOutOfRange(
            R_(
                "refresh token lifetime must be %(minimum)s to %(maximum)s seconds (7 to 90 days); got %(seconds)s",
                minimum=REFRESH_MIN,
                maximum=REFRESH_MAX,
                seconds=seconds,
            )
        )
    return seconds


@dataclass(frozen=True, slots=True)
class Lifetimes:
    access: int | None  # None: never expires (Zendesk's legacy tokens)
    refresh: int


def _whole_seconds(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    seconds = whole_number(raw, 12)
    if seconds is None:
        raise InvalidRequest(f"{name} must be a whole number of seconds, not {raw[:30]!r}")
    return seconds


def requested(params: Mapping[str, str], client: Client) -> Lifetimes:
    """The lifetimes for this token request: the client's, or the request's within bounds."""
    access = client.access_token_lifetime
    expires_in = _whole_seconds(params, "expires_in")
    if expires_in is not None:
        if not ACCESS_MIN <= expires_in <= ACCESS_MAX:
            raise InvalidRequest(
                f"expires_in must be between {ACCESS_MIN} and {ACCESS_MAX} seconds (inclusive); got {expires_in}"
            )
        access = expires_in
    refresh = client.refresh_token_lifetime
    refresh_in = _whole_seconds(params, "refresh_token_expires_in")
    if refresh_in is not None:
        if not REFRESH_MIN <= refresh_in <= REFRESH_MAX:
            raise InvalidRequest(
                f"refresh_token_expires_in must be between {REFRESH_MIN} and {REFRESH_MAX} seconds "
                f"(inclusive); got {refresh_in}"
            )
        if access is not None and refresh_in <= access:
            raise InvalidRequest("refresh_token_expires_in must be more than expires_in")
        refresh = refresh_in
    return Lifetimes(access=access, refresh=refresh)
