"""TESSERA_SESSION_LIFETIME and TESSERA_SESSION_IDLE_TIMEOUT (docs/security.md, "Sessions"):
the absolute and idle timeouts of browser sessions are settings, with stated defaults."""

from __future__ import annotations

import pytest

from tessera.settings import SettingsError, load_settings

SQLITE = "sqlite:////tmp/unused-session-settings.db"
KEY = {"TESSERA_SECRET_KEY": "s" * 40}


def test_defaults_are_fourteen_days_absolute_and_eight_hours_idle() -> None:
    settings = load_settings(KEY, SQLITE)
    assert settings.session_lifetime == 14 * 24 * 3600
    assert settings.session_idle_timeout == 8 * 3600


def test_both_are_read_from_the_environment() -> None:
    env = {**KEY, "TESSERA_SESSION_LIFETIME": "86400", "TESSERA_SESSION_IDLE_TIMEOUT": "1800"}
    settings = load_settings(env, SQLITE)
    assert (settings.session_lifetime, settings.session_idle_timeout) == (86400, 1800)


@pytest.mark.parametrize("name", ["TESSERA_SESSION_LIFETIME", "TESSERA_SESSION_IDLE_TIMEOUT"])
@pytest.mark.parametrize("value", ["soon", "60"])
def test_a_malformed_or_too_short_value_says_what_to_fix(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**KEY, name: value}, SQLITE)
