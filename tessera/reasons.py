"""The words the server writes in English and a page may say in the reader's language,
marked for pybabel's extraction: N_ (a fixed message) and R_ (a Reason: why something is
refused, with its values). Kept apart from i18n.py, which loads Babel and the catalogs:
the checks that use these run in every CLI command and in the protocol layer, which
translate nothing themselves.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(message: str) -> str:
    """Marks a string for extraction (pybabel's keyword N_) without translating it here: the
    page that shows it translates it in the reader's language."""
    return message


class Reason(str):
    """Why something is refused, in English (the str itself, for the command line, the JSON
    APIs and logs, which stay English), carrying its message and values so that a page can
    say it in the reader's language (`said`). The values are data (a URI, a field's name or
    value, a list of allowed names) and are not translated, but for a value that is itself
    a Reason. Made by R_, which pybabel extracts."""

    msgid: str
    values: Mapping[str, object]

    def __new__(cls, msgid: str, values: Mapping[str, object]) -> Reason:
        reason = super().__new__(cls, msgid % values if values else msgid)
        reason.msgid = msgid
        reason.values = values
        return reason

    def __reduce__(self) -> tuple[type[Reason], tuple[str, dict[str, object]]]:
        return (Reason, (self.msgid, dict(self.values)))


def R_(message: str, /, **values: object) -> Reason:
    """A Reason: `message` (a gettext msgid, %(name)s placeholders) filled with `values`.
    Marked for extraction (pybabel's keyword R_) like N_; translated where it is shown."""
    return Reason(message, values)
