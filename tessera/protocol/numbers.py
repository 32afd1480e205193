"""Reading whole numbers from request text.

Only ASCII digits count: str.isdigit() also accepts "¹" or "①", which int() then refuses,
and an identifier or lifetime is never written that way. The length cap keeps ids inside
a 64-bit column.
"""

from __future__ import annotations


def whole_number(text: str | None, max_digits: int = 18) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, or None."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
