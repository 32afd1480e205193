"""Every record of a listing the management layer pages by id (`after_id`), for the callers
that need them all: the CLI's lists, and the console's page that names the clients acting
as a user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar


class Record(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Record)


async def every(page: Callable[[int], Awaitable[Sequence[R]]]) -> list[R]:
    """Every record of a paged listing: `page(after_id)` is called after the last id seen
    until it returns an empty page."""
    found: list[R] = []
    while more := await page(found[-1].id if found else 0):
        found += more
    return found
