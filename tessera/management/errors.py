"""The one error type of management operations."""

from __future__ import annotations


class ManagementError(ValueError):
    """A domain mistake: duplicate, unknown, or invalid input. The message says what to fix."""


class NotFound(ManagementError):
    pass
