"""The backoff schedule of the throttles (tessera/backoff.py; docs/reliability.md,
"Throttles"): free up to the limit, then a wait that doubles up to the window."""

from __future__ import annotations

import re

import pytest

from tessera.backoff import Rule
from tessera.settings import Settings, SettingsError, load_settings

RULE = Rule("sign_in_email", limit=10, window=900, first_wait=60)


def test_failures_under_the_limit_cost_nothing() -> None:
    assert [RULE.wait_after(n) for n in range(10)] == [0] * 10


def test_each_failure_past_the_limit_doubles_the_wait_up_to_the_window() -> None:
    assert [RULE.wait_after(n) for n in range(10, 17)] == [60, 120, 240, 480, 900, 900, 900]
    assert RULE.wait_after(10_000) == 900  # no overflow, however long a run


def test_the_schedule_lists_each_step_until_the_window() -> None:
    assert RULE.schedule() == [(10, 60), (11, 120), (12, 240), (13, 480), (14, 900)]
    assert Rule("x", limit=1, window=30, first_wait=60).schedule() == [(1, 30)]


def test_settings_name_every_limit_and_turn_them_off() -> None:
    env = {
        "TESSERA_DATABASE_URL": "sqlite:///./x.db",
        "TESSERA_SECRET_KEY": "k" * 40,
        "TESSERA_THROTTLE": "0",
        "TESSERA_THROTTLE_SIGN_IN_PER_EMAIL": "5",
        "TESSERA_THROTTLE_SIGN_IN_PER_ADDRESS": "50",
        "TESSERA_THROTTLE_CLIENT_AUTH_PER_CLIENT": "7",
        "TESSERA_THROTTLE_CLIENT_AUTH_PER_ADDRESS": "70",
        "TESSERA_THROTTLE_USER_CODE_PER_USER": "4",
        "TESSERA_THROTTLE_USER_CODE_PER_ADDRESS": "40",
        "TESSERA_THROTTLE_BACKOFF": "30",
        "TESSERA_THROTTLE_WINDOW": "600",
    }
    loaded = load_settings(env)
    assert loaded.throttle is False
    assert (loaded.throttle_sign_in_per_email, loaded.throttle_sign_in_per_address) == (5, 50)
    assert (loaded.throttle_client_auth_per_client, loaded.throttle_client_auth_per_address) == (7, 70)
    assert (loaded.throttle_user_code_per_user, loaded.throttle_user_code_per_address) == (4, 40)  # RFC 8628 5.1
    assert (loaded.throttle_backoff, loaded.throttle_window) == (30, 600)
    defaults = Settings()
    assert defaults.throttle is True  # INTERFACE.md section 9: the default is on
    assert load_settings({k: v for k, v in env.items() if not k.startswith("TESSERA_THROTTLE")}).throttle is True


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [("TESSERA_THROTTLE", "maybe", "1 (on) or 0 (off)"), ("TESSERA_THROTTLE_SIGN_IN_PER_EMAIL", "0", "at least 1")],
)
def test_bad_throttle_settings_say_what_to_fix(name: str, value: str, says: str) -> None:
    env = {"TESSERA_DATABASE_URL": "sqlite:///./x.db", "TESSERA_SECRET_KEY": "k" * 40, name: value}
    with pytest.raises(SettingsError, match=re.escape(says)):
        load_settings(env)
