"""Why a field is refused (tessera/i18n.py Reason and R_): the management checks' messages
are the same English as ever, byte for byte, for the command line and the JSON APIs
(INTERFACE.md sections 1 and 6), and each carries its message and values so that a console
page says it in its own language, the values (URIs, field names, what was typed) as given."""

from __future__ import annotations

import copy
import pickle
from dataclasses import replace

import pytest

from tessera import i18n, passwords
from tessera.management import client_rules, resources, users
from tessera.management.errors import Invalid, Problems
from tessera.protocol import lifetimes, redirect_uri
from tessera.reasons import R_, Reason

DRAFT = client_rules.Draft(
    name="Reports",
    identifier="reports",
    is_global=False,
    redirect_uris=("https://reports.example.com/cb",),
    kind="confidential",
    grant_types=("authorization_code",),
    allowed_scopes=(),
    access_token_lifetime=None,
    refresh_token_lifetime=None,
    access_token_format="opaque",
    signing_alg="ES256",
    introspection=False,
    description="",
    company="",
    logo_url="",
)


def refused(**changes: object) -> Invalid:
    problems = Problems()
    client_rules.checked(replace(DRAFT, **changes), problems)  # type: ignore[arg-type]
    with pytest.raises(Invalid) as raised:
        problems.check()
    return raised.value


# The CLI's one line (str(Invalid)) for a bad client, exactly as it read before reasons
# were translatable.
CLIENT_LINES = [
    (
        {"name": "", "identifier": "bad id!", "logo_url": "ftp://x"},
        "name: name must not be empty; identifier: identifier 'bad id!' is not valid: use letters, digits, "
        "'_', '.' and '-' (up to 255, starting with a letter or digit); logo_url: logo_url 'ftp://x' must be "
        "an absolute https URL (or empty)",
    ),
    (
        {"redirect_uris": ("https://ok.example/cb", "http://evil.example/cb", "ftp://h/")},
        "redirect_uri: line 2: 'http://evil.example/cb' uses http; use https (http is allowed only for "
        "localhost and loopback addresses); redirect_uri: line 3: 'ftp://h/' uses the scheme 'ftp'; use "
        "https, http on localhost, or a reverse-domain scheme such as com.example.app:/callback",
    ),
    (
        {"redirect_uris": ()},
        "redirect_uri: the authorization_code and implicit grants need at least one redirect URI",
    ),
    (
        {"access_token_lifetime": "soon", "refresh_token_lifetime": 5},
        "access_token_lifetime: access token lifetime must be seconds or 'never', not 'soon'; "
        "refresh_token_lifetime: refresh token lifetime must be 604800 to 7776000 seconds (7 to 90 days); got 5",
    ),
    (
        {"allowed_scopes": ("read bogus",)},
        "allowed_scopes: unknown scope: bogus; known scopes include read, write, impersonate, RESOURCE:read, "
        "RESOURCE:write, openid, profile, email, address, phone, offline_access",
    ),
    (
        {"kind": "public", "grant_types": ("client_credentials",)},
        "grant_types: a public client cannot use client_credentials (RFC 6749 section 4.4)",
    ),
    (
        {"jwks": '{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}'},
        "jwks: key 1 is an RSA key of 17 bits; use at least 2048",
    ),
    ({"company": "x" * 300}, "company: company may be at most 255 characters (it has 300)"),
]


@pytest.mark.parametrize(("changes", "line"), CLIENT_LINES)
def test_the_command_lines_english_is_unchanged(changes: dict[str, object], line: str) -> None:
    error = refused(**changes)
    assert str(error) == line
    for messages in error.fields.values():
        for message in messages:
            assert isinstance(message, Reason)
            assert str.__str__(message) in line  # the str a JSON body or f-string takes


def test_a_reason_is_its_english_and_translates_with_its_values_as_given() -> None:
    error = refused(redirect_uris=("https://ok.example/cb", "http://evil.example/cb"))
    [reason] = error.fields["redirect_uri"]
    assert (
        reason
        == "line 2: 'http://evil.example/cb' uses http; use https (http is allowed only for localhost and loopback addresses)"
    )
    assert i18n.said("en", reason) == reason
    assert i18n.said("de", reason) == (
        "Zeile 2: 'http://evil.example/cb' verwendet http; verwenden Sie https "
        "(http ist nur für localhost und Loopback-Adressen erlaubt)"
    )
    assert i18n.said("ja", reason).startswith("2 行目：'http://evil.example/cb' は http を使っています。")
    # Right to left, each value is isolated, so that it keeps its own direction.
    assert i18n.said("ar", reason).startswith(
        "السطر \u20682\u2069: يستخدم \u2068'http://evil.example/cb'\u2069 بروتوكول"
    )
    # Plain messages (not Reasons) are shown as written, whatever the language.
    assert i18n.said("de", "no client with id 7") == "no client with id 7"


def test_a_reason_survives_copies_and_pickling() -> None:
    reason = R_("line %(line)s: %(reason)s", line=3, reason=redirect_uri.problem("http://x.example/"))
    for again in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert again == reason and isinstance(again, Reason)
        assert i18n.said("de", again) == i18n.said("de", reason)


def test_a_catalog_mistake_falls_back_to_the_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "gettext", lambda code, message: "kaputt %(nope)s")
    reason = R_("key %(number)s is not a JSON object", number=1)
    assert i18n.said("de", reason) == "key 1 is not a JSON object"


def test_users_resources_passwords_and_lifetimes_keep_their_english() -> None:
    with pytest.raises(Invalid) as bad_email:
        users.check_email("nope")
    assert str(bad_email.value) == "email: email 'nope' is not a valid address (expected name@example.com)"
    with pytest.raises(passwords.PasswordProblem) as short:
        passwords.check_policy("short")
    assert str(short.value) == "password must be at least 8 characters (it has 5)"
    assert isinstance(short.value.reason, Reason)
    with pytest.raises(passwords.PasswordProblem) as common:
        passwords.check_policy("password1")
    assert str(common.value) == (
        "this password is one of the most common passwords; pick a passphrase of three or four "
        "unrelated words, or let a password manager make one"
    )
    with pytest.raises(lifetimes.LifetimeOutOfRange) as lifetime:
        lifetimes.check_access_lifetime(5)
    assert str(lifetime.value) == (
        "access token lifetime must be 300 to 172800 seconds (5 minutes to 48 hours), or 'never'; got 5"
    )
    problems = Problems()
    resources._scopes(problems, ("openid", "read"))
    assert problems.fields["scopes"] == [
        "openid is about the user, not a resource; list the API scopes the resource accepts"
    ]
    assert resources._uri_problem("https://api.example.com/#x", "https://acme.example.com") == (
        "'https://api.example.com/#x' has a fragment; a resource URI may not (RFC 8707 section 2)"
    )


def test_a_guessable_passwords_english_reason_is_left_out_of_translations() -> None:
    """zxcvbn's reasons are English: a translated page says the same without them, as the
    password-reset page does."""
    with pytest.raises(passwords.PasswordProblem) as weak:
        passwords.check_policy("aaaaaaaaaa")
    reason = weak.value.reason
    assert reason == (
        'this password is too easy to guess (repeats like "aaa" are easy to guess); pick a passphrase of '
        "three or four unrelated words, or let a password manager make one"
    )
    assert i18n.said("de", reason).startswith("Dieses Passwort ist zu leicht zu erraten. Wählen Sie")
    assert "aaa" not in i18n.said("ja", reason) and "aaa" not in i18n.said("ar", reason)
