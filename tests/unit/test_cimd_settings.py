"""TESSERA_CIMD_ALLOW_PRIVATE (INTERFACE.md section 8): off unless set, read as a switch, and
a malformed value refused with what to fix."""

from __future__ import annotations

import pytest

from tessera.settings import SettingsError, load_settings

SQLITE = "sqlite:///./unused.db"
KEY = {"TESSERA_SECRET_KEY": "k" * 40}


def test_private_addresses_are_refused_by_default_within_three_seconds() -> None:
    settings = load_settings(KEY, database_url=SQLITE)
    assert settings.cimd_allow_private is False
    assert settings.cimd_fetch_timeout == 3.0


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("true", True), ("0", False), ("off", False)])
def test_the_development_switch_is_read(raw: str, value: bool) -> None:
    settings = load_settings({**KEY, "TESSERA_CIMD_ALLOW_PRIVATE": raw}, database_url=SQLITE)
    assert settings.cimd_allow_private is value


def test_a_malformed_switch_is_refused() -> None:
    with pytest.raises(SettingsError, match="TESSERA_CIMD_ALLOW_PRIVATE must be 1"):
        load_settings({**KEY, "TESSERA_CIMD_ALLOW_PRIVATE": "maybe"}, database_url=SQLITE)
