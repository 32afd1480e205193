"""Zendesk's cursor pagination for API listings: `page[size]`, `page[after]`, and the
`meta` / `links` members of the answer. A cursor is the last id of the page, encoded so
that callers treat it as opaque."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from tessera.protocol.numbers import whole_number

PAGE_SIZE = 100


class _Row(Protocol):
    @property
    def id(self) -> int: ...


Row = TypeVar("Row", bound=_Row)


class BadPage(Exception):
    """A page parameter that says what to fix."""


def cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def after(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        value = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text
        raise BadPage("page[after] is not a cursor this API gave out") from None
    last_id = whole_number(value)
    if last_id is None:
        raise BadPage("page[after] is not a cursor this API gave out")
    return last_id


def size(raw: str | None) -> int:
    if raw is None:
        return PAGE_SIZE
    value = whole_number(raw, 4)
    if value is None or not 1 <= value <= PAGE_SIZE:
        raise BadPage(f"page[size] must be a number from 1 to {PAGE_SIZE}")
    return value


def request(query: Mapping[str, str]) -> tuple[int, int]:
    """(page size, id to start after) from a listing's query string."""
    return size(query.get("page[size]")), after(query.get("page[after]"))


def members(
    ids: list[int],
    page_size: int,
    has_more: bool,
    url: str,
    keep: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, Any]:
    """`meta` and `links` for a page whose rows have `ids`; `keep` are the query parameters
    the next page's link must repeat (filters; pairs when a name repeats)."""
    after_cursor = cursor(ids[-1]) if ids else None
    pairs = list(keep.items()) if isinstance(keep, Mapping) else list(keep)
    following = [*pairs, ("page[size]", str(page_size)), ("page[after]", after_cursor or "")]
    return {
        "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": None},
        "links": {"next": f"{url}?{urlencode(following)}" if has_more else None, "prev": None},
    }


def listing(
    key: str,
    found: Sequence[Row],
    page_size: int,
    url: str,
    shown: Callable[[Row], dict[str, Any]],
    keep: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The body of a listing, `{key: [...], "meta": ..., "links": ...}`. `found` was read with
    a limit of page_size + 1: the extra row is not shown, it only says a next page exists."""
    page = found[:page_size]
    has_more = len(found) > page_size
    return {key: [shown(row) for row in page], **members([row.id for row in page], page_size, has_more, url, keep)}
