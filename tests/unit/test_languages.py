"""Which language a page speaks (tessera/i18n.py, tessera/web/locales.py): an explicit
?lang= on a page GET, then the tessera_lang cookie, then Accept-Language by q-value (RFC
9110 section 12.5.4, a regional tag falling back to its language), then English. Values
that are not a known language are ignored and never echoed."""

from __future__ import annotations

import re
from html import unescape

import pytest
from starlette.requests import Request

from tessera import i18n
from tessera.protocol import scopes
from tessera.web import locales


def request(
    query: str = "", cookie: str = "", accept: str | None = None, method: str = "GET", path: str = "/access/login"
) -> Request:
    headers = []
    if accept is not None:
        headers.append((b"accept-language", accept.encode("latin-1")))
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode("latin-1"),
        "headers": headers,
        "scheme": "http",
        "server": ("acme.localhost", 80),
    }
    return Request(scope)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("de", "de"),
        ("de-CH", "de"),
        ("de_AT", "de"),
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("fr-FR, fr;q=0.9, de;q=0.8, en;q=0.7", "de"),  # French is not offered: the next one
        ("en;q=0.5, ja;q=0.9", "ja"),  # by q-value, not by position
        ("de;q=0.8, ja;q=0.8", "de"),  # a tie keeps the header's order
        ("ja;q=0, de", "de"),  # q=0 means "not this one"
        ("AR-eg", "ar"),  # tags are case-insensitive
        ("fr, es", "en"),  # nothing offered: English
        ("", "en"),
        ("*", "en"),
        ("!!;q=x, *", "en"),
        ("de;q=2", "en"),  # a q-value above 1 is malformed
        ("de;q=abc, ja;q=0.1", "ja"),  # a malformed q drops its tag only
        ("x" * 600, "en"),
        (",".join(["fr"] * 50 + ["de"]), "en"),  # past the tags a browser sends
    ],
)
def test_accept_language_is_negotiated_by_q_value_and_falls_back_by_region(header: str, code: str) -> None:
    assert locales.choose(request(accept=header)).code == code


def test_the_date_locale_keeps_the_readers_region_of_the_chosen_language() -> None:
    assert str(locales.choose(request(accept="en-GB,en;q=0.8")).locale) == "en_GB"
    assert str(locales.choose(request(accept="de-CH")).locale) == "de_CH"
    # Chosen with ?lang=, the header's region of another language does not apply.
    assert str(locales.choose(request("lang=ja", accept="en-GB")).locale) == "ja"
    assert str(locales.choose(request(accept="xx-YY, de")).locale) == "de"


def test_explicit_choice_beats_the_cookie_which_beats_the_header() -> None:
    assert locales.choose(request("lang=ja", "tessera_lang=de", "ar")).code == "ja"
    assert locales.choose(request("lang=ja", "tessera_lang=de", "ar")).remember
    assert locales.choose(request("", "tessera_lang=de", "ar")).code == "de"
    assert not locales.choose(request("", "tessera_lang=de", "ar")).remember
    assert locales.choose(request("", "", "ar")).code == "ar"
    # ?lang= counts on page GETs only: a POST's query says nothing about the page.
    assert locales.choose(request("lang=ja", "tessera_lang=de", method="POST")).code == "de"


@pytest.mark.parametrize(
    ("ui_locales", "code"),
    [
        ("ja", "ja"),
        ("fr-CA ja-JP de", "ja"),  # in order of preference; French is not offered
        ("de-CH", "de"),  # a regional tag falls back to its language
        ("en ar", "en"),  # English is a language too
        ("  ar\tde ", "ar"),  # any whitespace separates
        ("fr xx-YY", None),
        ("de,ja", None),  # commas are Accept-Language's, not ui_locales'
        ("<b> ja", "ja"),
        ("", None),
        ("fr " * 300 + "de", None),  # past what a request carries
    ],
)
def test_ui_locales_is_read_in_order_of_preference(ui_locales: str, code: str | None) -> None:
    """OIDC Core 1.0 section 3.1.2.1: space-separated BCP 47 tags, most preferred first."""
    found = i18n.preferred(ui_locales)
    assert (found[0] if found else None) == code


def test_ui_locales_comes_after_the_readers_choice_and_before_accept_language() -> None:
    """?lang= > tessera_lang > ui_locales (on the authorization request's pages) >
    Accept-Language > English; the hint is never remembered."""
    authorize = "/oauth/authorizations/new"
    assert locales.choose(request("ui_locales=ja", "", "de", path=authorize)).code == "ja"
    assert not locales.choose(request("ui_locales=ja", "", "de", path=authorize)).remember
    assert str(locales.choose(request("ui_locales=de-CH", "", "ja", path=authorize)).locale) == "de_CH"
    assert locales.choose(request("ui_locales=ja", "tessera_lang=ar", "de", path=authorize)).code == "ar"
    assert locales.choose(request("ui_locales=ja&lang=ar", "", "de", path=authorize)).code == "ar"
    assert locales.choose(request("ui_locales=fr", "", "de", path=authorize)).code == "de"
    assert locales.choose(request("ui_locales=ja", "", "de", path="/access/login")).code == "ja"
    # Another page's query is not an authorization request's: ui_locales means nothing there.
    assert locales.choose(request("ui_locales=ja", "", "de", path="/access/apps")).code == "de"
    # A POST (a form) or a pushed request: the endpoint hands the hint over.
    posted = request("", "", "de", method="POST", path="/access/login")
    assert locales.choose(posted).code == "de"
    locales.hint(posted, "ar ja")
    assert locales.choose(posted).code == "ar"


@pytest.mark.parametrize("value", ["xx", "", "de<script>", "../../etc", "e" * 100, "'\"", "zh", "en-", "-de"])
def test_an_unknown_lang_or_cookie_is_ignored(value: str) -> None:
    from urllib.parse import quote

    choice = locales.choose(request(f"lang={quote(value)}", f"tessera_lang={quote(value)}", "ja"))
    assert choice.code == "ja"
    assert not choice.remember


def test_supported_names_only_known_languages() -> None:
    assert i18n.supported("de-CH") == "de"
    assert i18n.supported("JA_jp") == "ja"
    assert i18n.supported("deu") is None
    assert i18n.supported(None) is None
    assert set(i18n.LANGUAGES) >= {"en", "de", "ja", "ar"}
    assert i18n.LANGUAGES["ar"].direction == "rtl"
    assert i18n.LANGUAGES["de"].direction == "ltr"


def switch_hrefs(page: Request) -> dict[str, str]:
    """The language switch's links of a page, by language code (HTML entities undone)."""
    html = str(locales.switch(page, locales.choose(page)))
    found = re.findall(r'<a href="([^"]*)" lang="([^"]*)"', html)
    return {code: unescape(href) for href, code in found}


def test_switch_links_keep_the_query_of_pages_that_use_it_and_replace_lang() -> None:
    login = request("return_to=%2Fdevice&lang=de", path="/access/login")
    links = switch_hrefs(login)
    assert list(links) == list(i18n.LANGUAGES)
    assert links["de"] == "/access/login?return_to=%2Fdevice&lang=de"
    assert links["ja"] == "/access/login?return_to=%2Fdevice&lang=ja"
    assert re.search(r'lang="de"[^>]*aria-current="true"', str(locales.switch(login, locales.choose(login))))
    # A page that does not use its query does not repeat it (a logout's state).
    logout = switch_hrefs(request("state=secret&client_id=x", path="/access/logout"))
    assert all(href.startswith("/access/logout?lang=") for href in logout.values())
    # After a POST to a path without its own GET page: the home page.
    decided = switch_hrefs(request(method="POST", path="/oauth/authorizations"))
    assert decided["en"] == "/?lang=en"


def test_durations_are_said_in_the_language_with_its_plurals() -> None:
    assert locales.choose(request(accept="en")).duration(1) == "1 second"
    assert locales.choose(request(accept="en")).duration(900) == "15 minutes"
    assert locales.choose(request(accept="de")).duration(60) == "60 Sekunden"
    assert locales.choose(request(accept="de")).duration(61 * 60) == "61 Minuten"
    assert locales.choose(request(accept="ja")).duration(300) == "5 分"
    assert locales.choose(request(accept="ar")).duration(120) == "دقيقتين"


def test_scope_lines_are_translated_and_english_without_a_catalog() -> None:
    german = locales.choose(request(accept="de")).gettext
    assert scopes.describe(["tickets:read", "read", "unknown:write"], german) == [
        "Tickets lesen",
        "Alles in Ihrem Konto lesen",
        "unknown erstellen, ändern und löschen",
    ]
    assert scopes.describe(["tickets:read"]) == ["Read tickets"]


@pytest.mark.parametrize("path", ["//elsewhere.example/x", "/\\elsewhere.example", "/a?b/../x"])
def test_switch_links_never_lead_off_the_host_and_keep_the_path_one_path(path: str) -> None:
    links = switch_hrefs(request(path=path))
    assert len(links) == len(i18n.LANGUAGES)
    for href in links.values():
        assert href.startswith("/") and not href.startswith("//")
        assert "\\" not in href
        assert href.count("?") == 1
