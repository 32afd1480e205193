"""TESSERA_BASE_DOMAIN (INTERFACE.md section 1): accounts are served at SUB.BASE_DOMAIN, so
the value must be a host name; anything else is refused in one line at start-up, before it
turns into URLs such as https://acme.http://x.com/."""

from __future__ import annotations

import pytest

from tessera.settings import SettingsError, base_domain_of


@pytest.mark.parametrize(
    ("given", "kept"),
    [(None, "localhost"), ("Example.COM.", "example.com"), ("auth.example.co.uk", "auth.example.co.uk")],
)
def test_a_host_name_is_kept_lower_cased_without_its_final_dot(given: str | None, kept: str) -> None:
    assert base_domain_of({} if given is None else {"TESSERA_BASE_DOMAIN": given}) == kept


@pytest.mark.parametrize(
    "given", ["http://x.com", "example.com:8000", "example.com/auth", "exa mple.com", "-bad.example.com", "a..b"]
)
def test_anything_else_is_refused_naming_the_setting(given: str) -> None:
    with pytest.raises(SettingsError, match="TESSERA_BASE_DOMAIN must be a host name"):
        base_domain_of({"TESSERA_BASE_DOMAIN": given})
