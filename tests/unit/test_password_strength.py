"""Weak and common passwords refused wherever a password is set (tessera/password_strength.py,
through passwords.check_policy), with a message that says what to pick instead."""

from __future__ import annotations

import pytest

from tessera import passwords
from tessera.password_strength import ADVICE, MAX_JUDGED, weakness


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password123", "one of the most common passwords"),
        ("qwertyuiop", "one of the most common passwords"),
        ("P@ssw0rd1", "common password"),
        ("aaaaaaaaaaaa", "too easy to guess"),
    ],
)
def test_common_and_patterned_passwords_are_refused(password: str, reason: str) -> None:
    problem = weakness(password)
    assert problem is not None and reason in problem and problem.endswith(ADVICE)
    with pytest.raises(passwords.PasswordProblem):
        passwords.check_policy(password)


def test_the_users_own_email_name_and_account_are_refused() -> None:
    context = ("grace.hopper@navy.example", "Grace Hopper", "navy", "US Navy")
    assert weakness("grace.hopper@navy.example", context) is not None
    assert weakness("gracehopper", context) is not None
    assert weakness("navygrace1", context) is not None


@pytest.mark.parametrize("password", ["correct horse battery", "lantern orchard quietly 47", "xK9#mQ2$vL7!"])
def test_passphrases_and_random_passwords_pass(password: str) -> None:
    assert weakness(password) is None
    assert passwords.check_policy(password) == password


def test_long_passwords_are_judged_by_their_first_characters_only() -> None:
    assert weakness("lantern orchard quietly 47 " * 30) is None
    assert weakness("a" * (MAX_JUDGED + 500)) is not None
    # The length rule still comes first.
    with pytest.raises(passwords.PasswordProblem, match="at most 1024"):
        passwords.check_policy("lantern orchard " * 80)
