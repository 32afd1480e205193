"""Dates on pages, in the reader's locale (Accept-Language, RFC 9110 section 12.5.4) with
Babel: an absolute date and time in UTC, said so, and how long ago it was ("3 days ago").

No time zone is known for the reader (no script runs on the pages), so times are in UTC
and labelled; the locale still orders and spells them as the reader expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton, format_timedelta
from starlette.requests import Request

DEFAULT = Locale("en")
_MAX_TAGS = 10


def locale_of(request: Request) -> Locale:
    """The first locale of Accept-Language that Babel knows, by q-value; English otherwise."""
    header = request.headers.get("accept-language", "")[:512]
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
    return DEFAULT


@dataclass(frozen=True, slots=True)
class ShownTime:
    iso: str  # for <time datetime=...>
    absolute: str  # "Dec 4, 2026, 14:05 UTC"
    relative: str  # "3 days ago"


def shown(seconds: float, now: float, locale: Locale) -> ShownTime:
    moment = datetime.fromtimestamp(seconds, UTC)
    day = format_skeleton("yMMMd", moment, tzinfo=UTC, locale=locale)
    clock = format_skeleton("Hm", moment, tzinfo=UTC, locale=locale)
    # The locale's own way of joining a date and a time ("{1}, {0}", "{1} {0}", ...).
    absolute = str(locale.datetime_formats["medium"]).format(clock, day)
    ago = timedelta(seconds=seconds - now)
    relative = format_timedelta(ago, threshold=0.9, add_direction=True, locale=locale)
    return ShownTime(iso=moment.strftime("%Y-%m-%dT%H:%M:%SZ"), absolute=f"{absolute} UTC", relative=relative)
