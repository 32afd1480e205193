"""The error of a setting (settings.py and what it reads the settings with)."""

from __future__ import annotations


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""
