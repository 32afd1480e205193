"""TESSERA_SMTP_*, TESSERA_PASSWORD_RESET_LIFETIME and the reset throttles
(docs/password-reset.md): defaults, overrides, and a clear error for each bad value."""

from __future__ import annotations

import pytest

from tessera.settings import SettingsError, load_settings

BASE = {"TESSERA_DATABASE_URL": "postgresql://x@localhost/db", "TESSERA_SECRET_KEY": "k" * 40}


def test_without_an_smtp_host_no_mail_is_sent() -> None:
    settings = load_settings(BASE)
    assert not settings.smtp_configured
    assert settings.smtp_port == 25 and not settings.smtp_starttls
    assert settings.smtp_from == "Tessera <tessera@localhost>"
    assert settings.password_reset_lifetime == 1800
    assert (settings.throttle_password_reset_per_email, settings.throttle_password_reset_per_address) == (3, 10)


def test_every_smtp_setting_is_read() -> None:
    settings = load_settings(
        {
            **BASE,
            "TESSERA_SMTP_HOST": "smtp.example.com",
            "TESSERA_SMTP_STARTTLS": "1",
            "TESSERA_SMTP_USERNAME": "tessera",
            "TESSERA_SMTP_PASSWORD": "s3cret",
            "TESSERA_SMTP_FROM": "Acme <no-reply@example.com>",
            "TESSERA_SMTP_TIMEOUT": "4",
            "TESSERA_PASSWORD_RESET_LIFETIME": "600",
            "TESSERA_THROTTLE_PASSWORD_RESET_PER_EMAIL": "5",
        }
    )
    assert settings.smtp_configured and settings.smtp_host == "smtp.example.com"
    assert settings.smtp_port == 587  # STARTTLS's submission port, unless told otherwise
    assert settings.smtp_starttls and settings.smtp_username == "tessera" and settings.smtp_password == "s3cret"
    assert settings.smtp_from == "Acme <no-reply@example.com>"
    assert settings.smtp_timeout == 4.0 and settings.password_reset_lifetime == 600
    assert settings.throttle_password_reset_per_email == 5
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TESSERA_SMTP_PORT", "smtp", "port number from 1 to 65535"),
        ("TESSERA_SMTP_PORT", "70000", "port number from 1 to 65535"),
        ("TESSERA_SMTP_STARTTLS", "maybe", "must be 1 (on) or 0 (off)"),
        ("TESSERA_SMTP_FROM", "nobody", "e-mail address"),
        ("TESSERA_SMTP_TIMEOUT", "soon", "number of seconds"),
        ("TESSERA_PASSWORD_RESET_LIFETIME", "30", "at least 60"),
        ("TESSERA_THROTTLE_PASSWORD_RESET_PER_ADDRESS", "0", "at least 1"),
    ],
)
def test_a_bad_value_is_named_with_what_to_write(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=name) as raised:
        load_settings({**BASE, name: value})
    assert words in str(raised.value)
