"""Errors storage raises for the layers above to explain."""

from __future__ import annotations


class Duplicate(Exception):
    """A unique value is taken; `field` names which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class LastAdmin(Exception):
    """The change would leave the account without an active admin."""
