"""What text shown to people may hold: the names of clients, users and resources, a
client's company and description, which pages put inside sentences of their own ("Allow
NAME to access your account?").

Refused besides control characters: the characters that reorder or hide the text around
them. A right-to-left override (U+202E) in an app's name reversed the rest of the consent
page's sentence; a name of zero-width spaces showed as nothing. Kept: the zero-width
joiner and non-joiner (U+200D, U+200C), which Persian, the Indic scripts and emoji need.
A name must also show something: at least one character that is neither a space nor a
format or control character.
"""

from __future__ import annotations

import re
import unicodedata

from tessera.reasons import R_, Reason

# Control characters: PostgreSQL refuses NUL in text, and none belongs in a name or a URL.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Bidirectional embeddings, overrides, isolates and marks; zero-width and invisible
# characters (word joiner, invisible operators, byte order mark, Mongolian vowel separator).
HIDDEN = re.compile("[\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def shows_something(text: str) -> bool:
    return any(unicodedata.category(c)[0] not in "ZC" for c in text)


def hidden_problem(field: str, text: str) -> Reason | None:
    """Why `text` may not be shown as it is, or None."""
    found = HIDDEN.search(text)
    if found is not None:
        code = format(ord(found.group()), "04X")
        return R_(
            "%(field)s may not contain invisible or text-direction characters (it has U+%(code)s)",
            field=field,
            code=code,
        )
    return None


def name_problem(field: str, text: str) -> Reason | None:
    """Why a name may not be shown as it is (hidden_problem, blank_problem), or None."""
    return hidden_problem(field, text) or blank_problem(field, text)


def blank_problem(field: str, text: str) -> Reason | None:
    """Why a name that must show something does not, or None."""
    if text and not shows_something(text):
        return R_("%(field)s must contain a visible character", field=field)
    return None
