"""Dates on pages, in the page's locale with Babel: an absolute date and time in UTC, said
so, and how long ago it was ("3 days ago"). The locale is the one web/locales.py chose for
the page (Choice.locale): the page's language, in the reader's region when Accept-Language
named one of that language ("en-GB": 4 Dec 2026).

No time zone is known for the reader (no script runs on the pages), so times are in UTC
and labelled; the locale still orders and spells them as the reader expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel import Locale
from babel.dates import format_skeleton, format_timedelta


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
