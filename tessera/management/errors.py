"""The errors of management operations: each says what to fix, and the adapters map them
(API: 404 RecordNotFound, 403 Forbidden, 422 RecordInvalid; console: a page or a message
beside the field; CLI: one line on stderr)."""

from __future__ import annotations


class ManagementError(ValueError):
    """A domain mistake: duplicate, unknown, or invalid input. The message says what to fix."""


class NotFound(ManagementError):
    """An unknown id, or one of another account."""


class Forbidden(ManagementError):
    """The actor may not do this; the message says what is missing."""


class Invalid(ManagementError):
    """Fields that fail validation: field name -> messages, every bad field named.

    str() is one line, "field: message; field: message", as the CLI prints it.
    """

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = {name: list(messages) for name, messages in fields.items() if messages}
        super().__init__("; ".join(f"{name}: {message}" for name, ms in self.fields.items() for message in ms))

    @classmethod
    def one(cls, field: str, message: str) -> Invalid:
        return cls({field: [message]})


class Problems:
    """Collects field problems so that one Invalid can name every bad field."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def check(self) -> None:
        if self.fields:
            raise Invalid(self.fields)
