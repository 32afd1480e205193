"""Tessera's pages in German, Japanese and Arabic in headless Chromium, at 1280x800 and
390x844 (docs/languages.md): the sign-in page, the consent page, an error page, the
console's refusal of a non-admin, and the console's client list, a client's page, the
new-client form refused with field errors, the users page and the audit log, each
checked by axe-core for serious and critical violations (accessibility.py), for the page's
lang and dir, for text that overflows the screen, and for Arabic, for a mirrored layout;
the console's pages also for words of the page in the language and none of a few English
ones left in their main content.
The language comes from the browser's Accept-Language, then from the page's switch.

Screenshots go to a temporary folder; to refresh the docs' copies, run

    TESSERA_SCREENSHOTS=docs/screenshots PYTHONPATH=$PWD .venv/bin/pytest tests/e2e/test_languages_browser.py

which writes <page>-<language>-desktop.png and <page>-<language>-phone.png there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, Route

from tessera import i18n
from tests.e2e import accessibility, harness
from tests.support import pkce_pair

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# Playwright's locale sets the browser's Accept-Language.
BROWSER_LOCALES = {"de": "de-DE", "ja": "ja-JP"}
SIGN_IN = {"de": "Anmelden", "ja": "サインイン", "ar": "تسجيل الدخول"}


@dataclass
class Site:
    port: int
    output: Path
    problems: dict[str, str] = field(default_factory=dict)
    shots: list[Path] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"http://acme.localhost:{self.port}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("languages")
    database_url = f"sqlite:///{directory / 'tessera.db'}"
    harness.seed(database_url)
    output = Path(os.environ.get("TESSERA_SCREENSHOTS") or directory / "screenshots")
    output.mkdir(parents=True, exist_ok=True)
    with harness.running_server(database_url, directory / "server.log") as port:
        yield Site(port, output)


def authorization_url(site: Site, **extra: str) -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": "example-web",
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read tickets:write",
        "state": "languages",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{site.issuer}/oauth/authorizations/new?{urlencode(query)}"


def layout(page: Page) -> dict[str, float]:
    """Where the card, its first label and its heading (or the logo before it) are, and how
    wide the page is."""
    return page.evaluate(
        """() => {
          const box = e => e.getBoundingClientRect();
          const card = box(document.querySelector('.card') || document.querySelector('.console-main'));
          // What a reader sees first: the app's logo beside the heading, or the heading's text.
          const logo = document.querySelector('.card .client .logo');
          const range = document.createRange();
          range.selectNodeContents(document.querySelector('h1'));
          const text = logo ? box(logo) : range.getBoundingClientRect();
          const label = document.querySelector('label');
          const labelText = label ? (() => { const r = document.createRange(); r.selectNodeContents(label.firstChild); return r.getBoundingClientRect(); })() : null;
          return {
            cardLeft: card.left, cardRight: card.right,
            headingLeft: text.left, headingRight: text.right,
            labelLeft: labelText ? labelText.left : NaN, labelRight: labelText ? labelText.right : NaN,
            scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth,
          };
        }"""
    )


def check(site: Site, page: Page, name: str, language: str) -> None:
    """At both sizes: the page's language and direction, nothing wider than the screen, the
    reading direction of its text, a screenshot, and axe's serious or critical findings."""
    direction = "rtl" if language == "ar" else "ltr"
    assert page.get_attribute("html", "lang") == language
    assert page.get_attribute("html", "dir") == direction
    current = page.locator("nav.languages a[aria-current]")
    assert current.count() == 1 and current.get_attribute("lang") == language
    for label, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        where = f"{name} in {language} at {label}"
        box = layout(page)
        if box["scrollWidth"] > box["viewport"]:
            site.problems[f"{where} (width)"] = f"the page is {box['scrollWidth']}px wide in {box['viewport']}px"
        # The heading (or logo) starts at the card's start side: the right in Arabic, the left otherwise.
        start_gap = (
            box["cardRight"] - box["headingRight"] if direction == "rtl" else box["headingLeft"] - box["cardLeft"]
        )
        end_gap = box["headingLeft"] - box["cardLeft"] if direction == "rtl" else box["cardRight"] - box["headingRight"]
        if not (start_gap < 40 and start_gap <= end_gap):
            site.problems[f"{where} (direction)"] = f"the heading is not at the {direction} start: {box}"
        has_form = box["labelRight"] == box["labelRight"]  # not NaN: the page has a labelled field
        # Near the right edge (a console panel's padding inside its main column), nearer than the left.
        right_gap, left_gap = box["cardRight"] - box["labelRight"], box["labelLeft"] - box["cardLeft"]
        right_aligned = right_gap < min(80, left_gap)
        if direction == "rtl" and has_form and not right_aligned:
            site.problems[f"{where} (label)"] = f"the label is not right-aligned: {box}"
        path = site.output / f"{name}-{language}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        site.shots.append(path)
        found = accessibility.violations(page)
        if found:
            site.problems[where] = accessibility.describe(found)
    page.set_viewport_size(VIEWPORTS["desktop"])  # type: ignore[arg-type]


# What each console page says in the language (the catalog's translation of these messages),
# and, in its main content, none of these words in English.
CONSOLE_WORDS = {
    "console": (("OAuth clients", "New client", "Grant types"), ("New client", "Grant types", "Identifier")),
    "console-client": (
        ("Settings", "Save changes", "Delete this client"),
        ("Settings", "Save changes", "Redirect URIs"),
    ),
    "console-client-new": (
        ("The client was not saved.", "Fix the fields marked below.", "Create client"),
        # "must not be empty": the reason beside the empty name, said in the language too.
        ("The client was not saved.", "Fix the fields marked below.", "Basics", "Create client", "must not be empty"),
    ),
    "console-users": (("New user", "Created"), ("New user", "Created", "People who can sign in")),
    "console-audit": (("All actions", "IP address"), ("All actions", "IP address", "Who changed what")),
}


def says(page: Page, name: str, language: str, problems: dict[str, str]) -> None:
    """The console page's words in the language, and none of its English ones in <main>."""
    said = i18n.translations(language).gettext
    main = page.inner_text("main").casefold()  # table headings are shown in capitals
    wanted, english = CONSOLE_WORDS[name]
    missing = [said(message) for message in wanted if str(said(message)).casefold() not in main]
    left = [word for word in english if word.casefold() in main]
    if missing or left:
        problems[f"{name} in {language} (words)"] = f"missing {missing}, English left {left}"


def the_app_receives(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>App</title><p>Back.</p>")


def walk(site: Site, page: Page, language: str) -> None:
    if language == "ar":
        # Arabic is chosen on the page: the switch, then the cookie it set, carries it on.
        page.goto(authorization_url(site))
        page.click("nav.languages a[lang=ar]")
        page.wait_for_selector("html[dir=rtl]")
    else:
        page.goto(authorization_url(site))
    assert page.inner_text("h1") == SIGN_IN[language]
    check(site, page, "login", language)
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button.primary")
    page.wait_for_selector("button[value=allow]")
    check(site, page, "consent", language)
    page.goto(authorization_url(site, redirect_uri="https://elsewhere.example/cb"))
    page.click("summary")
    check(site, page, "error", language)
    # The console: turned away as an end user; its frame, as its admin.
    page.goto(f"{site.issuer}/admin")
    check(site, page, "console-forbidden", language)
    page.goto(f"{site.issuer}/access/login?return_to=%2Fadmin%2Fclients")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("form.stack button.primary >> nth=-1")
    page.wait_for_selector("nav.console-nav")
    says(page, "console", language, site.problems)
    check(site, page, "console", language)
    page.click("main a.row-title >> nth=0")
    page.wait_for_selector("h2.section-title")
    says(page, "console-client", language, site.problems)
    check(site, page, "console-client", language)
    # Refused with field errors: the form sent empty.
    page.goto(f"{site.issuer}/admin/clients/new")
    page.fill("input[name=name]", "")
    page.fill("input[name=identifier]", "")
    page.click("form.form .form-actions button.primary")
    page.wait_for_selector("main .alert")
    says(page, "console-client-new", language, site.problems)
    check(site, page, "console-client-new", language)
    page.goto(f"{site.issuer}/admin/users")
    says(page, "console-users", language, site.problems)
    check(site, page, "console-users", language)
    page.goto(f"{site.issuer}/admin/audit")
    says(page, "console-audit", language, site.problems)
    check(site, page, "console-audit", language)


@pytest.mark.parametrize("language", ["de", "ja", "ar"])
def test_pages_in_each_language_at_both_sizes(site: Site, browser: Browser, language: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale=BROWSER_LOCALES.get(language, "ja-JP"))  # type: ignore[arg-type]
    context.route("http://127.0.0.1/cb**", the_app_receives)
    page = context.new_page()
    before = len(site.shots)
    try:
        walk(site, page, language)
    finally:
        context.close()
    mine = {k: v for k, v in site.problems.items() if f" in {language} " in k}
    assert not mine, "\n\n".join(f"{where}:\n{what}" for where, what in mine.items())
    assert len(site.shots) - before == 9 * 2
