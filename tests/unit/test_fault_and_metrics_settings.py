"""TESSERA_DATABASE_TIMEOUT, TESSERA_METRICS and TESSERA_METRICS_TOKEN (INTERFACE.md section
9): their defaults, and a clear refusal of a malformed value, never a traceback."""

from __future__ import annotations

import pytest

from tessera.settings import SettingsError, load_settings

SQLITE = "sqlite:///./unused.db"
KEY = {"TESSERA_SECRET_KEY": "k" * 40}


def test_defaults_are_five_seconds_and_metrics_off() -> None:
    settings = load_settings(KEY, database_url=SQLITE)
    assert settings.database_timeout == 5.0
    assert settings.metrics is False
    assert settings.metrics_token == ""


def test_values_are_read() -> None:
    env = {**KEY, "TESSERA_DATABASE_TIMEOUT": "1.5", "TESSERA_METRICS": "1", "TESSERA_METRICS_TOKEN": " tok "}
    settings = load_settings(env, database_url=SQLITE)
    assert (settings.database_timeout, settings.metrics, settings.metrics_token) == (1.5, True, "tok")
    assert "tok" not in repr(settings)  # a secret, kept out of any printed settings


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "nan", "inf", "601"])
def test_a_malformed_timeout_is_refused_with_what_to_fix(raw: str) -> None:
    with pytest.raises(SettingsError, match="TESSERA_DATABASE_TIMEOUT"):
        load_settings({**KEY, "TESSERA_DATABASE_TIMEOUT": raw}, database_url=SQLITE)


def test_a_malformed_metrics_flag_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"TESSERA_METRICS must be 1 \(on\) or 0 \(off\)"):
        load_settings({**KEY, "TESSERA_METRICS": "maybe"}, database_url=SQLITE)
