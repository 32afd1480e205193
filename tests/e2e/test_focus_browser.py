"""Keyboard focus in Chromium, at 1280x800 and 390x844 (WCAG 2.2 SC 2.4.7 and 2.4.11): Tab
through the sign-in page, the consent page, the console's client list and its new-client
form, and at every stop the focused element is on screen with a ring of its own (an
outline or a box-shadow) at 3:1 or more against the background, not cut off by an
ancestor that clips or scrolls. The console's first stop is its skip link.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e import accessibility, harness
from tests.e2e.camera import SIZES
from tests.support import pkce_pair

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MOST_STOPS = 80
# Focus a throwaway element before everything else, then take it away: the next Tab goes
# to the page's first stop, as it does on a freshly loaded page (a field's autofocus aside).
START_AT_THE_TOP = """() => {
  const mark = document.createElement('span');
  mark.tabIndex = -1;
  document.body.prepend(mark);
  mark.focus();
  mark.remove();
  window.scrollTo(0, 0);
}"""


@dataclass
class Site:
    issuer: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory: Path = tmp_path_factory.mktemp("focus")
    database_url = f"sqlite:///{directory / 'tessera.db'}"
    harness.seed(database_url)
    with harness.running_server(database_url, directory / "server.log") as port:
        yield Site(f"http://acme.localhost:{port}")


def authorization_url(site: Site) -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": "example-web",
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read",
        "state": "focus",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{site.issuer}/oauth/authorizations/new?{urlencode(query)}"


def tab_through(page: Page) -> list[dict[str, Any]]:
    """Every stop of one pass of the Tab key from the top of the page, with its ring."""
    page.evaluate(START_AT_THE_TOP)
    stops: list[dict[str, Any]] = []
    for _ in range(MOST_STOPS):
        page.keyboard.press("Tab")
        ring = accessibility.focus_ring(page)
        if ring["element"] is None or (stops and ring["element"] == stops[0]["element"]):
            break
        stops.append(ring)
    return stops


def faults(stops: list[dict[str, Any]]) -> list[str]:
    found = []
    for stop in stops:
        if not stop["visible"]:
            found.append(f"{stop['element']}: focused off screen")
        elif not stop["ring"]:
            found.append(f"{stop['element']}: no outline or box-shadow")
        elif stop["contrast"] < 3:
            found.append(f"{stop['element']}: ring at {stop['contrast']:.2f}:1")
        if stop["clipped"]:
            found.append(f"{stop['element']}: ring cut off by {stop['clipped']}")
    return found


def check_both_sizes(page: Page, least: int) -> list[dict[str, Any]]:
    stops: list[dict[str, Any]] = []
    for label, viewport in SIZES.items():
        page.set_viewport_size(viewport)  # type: ignore[arg-type]
        at_size = tab_through(page)
        assert len(at_size) >= least, f"at {label}, only {[stop['element'] for stop in at_size]}"
        assert not faults(at_size), f"at {label}:\n" + "\n".join(faults(at_size))
        stops += at_size
    return stops


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES["desktop"])  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, email: str) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()


def test_the_sign_in_and_consent_pages_show_where_the_focus_is(site: Site, page: Page) -> None:
    page.goto(authorization_url(site))
    stops = check_both_sizes(page, least=4)  # e-mail, password, Sign in, the reset link
    assert any("input#email" in stop["element"] or "[name=email]" in stop["element"] for stop in stops)
    sign_in(page, "alice@example.com")
    page.wait_for_selector("button[value=allow]")
    stops = check_both_sizes(page, least=2)
    assert any("Allow" in stop["element"] for stop in stops)


def test_the_console_shows_where_the_focus_is(site: Site, page: Page) -> None:
    page.goto(f"{site.issuer}/admin")
    sign_in(page, "admin@example.com")
    page.wait_for_selector("h1:has-text('OAuth clients')")
    stops = check_both_sizes(page, least=10)  # skip link, brand, Sign out, seven sections, New client
    assert stops[0]["element"].startswith('a "Skip to content"')
    assert sum("Tokens" in stop["element"] for stop in stops) == 2  # the section link, at each size
    page.goto(f"{site.issuer}/admin/clients/new")
    stops = check_both_sizes(page, least=20)
    kinds = {stop["element"].split("#")[0].split("[")[0].split(" ")[0] for stop in stops}
    assert {"input", "textarea", "select", "button", "a"} <= kinds
