"""The device pages in Chromium (Playwright) against a real server (RFC 8628 section 3.3;
INTERFACE.md sections 5 and 7): the verification_uri_complete link, the real login page,
the code filled in and confirmed, the app and its scopes, Allow and Deny, what the device
then hears, and the phone layout. Chromium is Debian's (tests/e2e/chromium.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Response

from tests.e2e import harness
from tests.e2e.harness import Server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ALICE = "alice@example.com"


@pytest.fixture(scope="module")
def tv(server: Server) -> str:
    made = harness.tessera_json(
        server.database_url,
        *("clients", "create", "--account", server.subdomain, "--name", "Living Room TV", "--identifier", "tv-b"),
        *("--company", "Example Inc", "--kind", "public", "--grant-type", "device_code"),
    )
    return str(made["client"]["identifier"])


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def codes_for(server: Server, client_id: str, scope: str = "read tickets:write") -> dict[str, Any]:
    with harness.http_client() as device:
        answer = device.post(f"{server.issuer}/oauth/device/code", data={"client_id": client_id, "scope": scope})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


def poll(server: Server, client_id: str, device_code: str) -> httpx.Response:
    with harness.http_client() as device:
        return device.post(
            f"{server.issuer}/oauth/tokens",
            data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
        )


def assert_page_headers(response: Response | None) -> None:
    """INTERFACE.md section 5."""
    assert response is not None
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in headers


def sign_in(page: Page) -> None:
    page.fill("input[name=email]", ALICE)
    page.fill("input[name=password]", harness.PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")


def test_allow_from_the_link_in_chromium(server: Server, tv: str, page: Page) -> None:
    """RFC 8628 sections 3.3 and 5.4: the link leads through sign-in to the code, filled in
    for the user to compare; the app, its scopes and the code are shown; Allow; the device
    gets its token."""
    codes = codes_for(server, tv)
    login = page.goto(codes["verification_uri_complete"])
    assert page.url.startswith(f"{server.issuer}/access/login?return_to=")
    assert_page_headers(login)
    sign_in(page)
    assert page.url == codes["verification_uri_complete"]
    assert page.inner_text("h1") == "Connect a device"
    assert page.input_value("input[name=user_code]") == codes["user_code"]
    with page.expect_response(lambda r: r.request.method == "POST") as checked:
        page.click("button:has-text('Continue')")
    assert_page_headers(checked.value)
    assert page.inner_text("h1") == "Living Room TV"
    assert page.title() == "Allow Living Room TV · Acme Inc"
    card = page.inner_text(".card")
    assert "by Example Inc" in card and "Create, change and delete tickets" in card
    assert page.inner_text(".user-code-shown") == codes["user_code"]
    assert "registered itself" not in card
    page.click("button[value=allow]")
    page.wait_for_selector("h1:has-text('Device connected')")
    assert "Go back to your device" in page.inner_text(".card")
    tokens = poll(server, tv, codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["scope"] == "read tickets:write"


def test_deny_and_a_typed_code_in_chromium(server: Server, tv: str, page: Page) -> None:
    """INTERFACE.md section 7: typed in lower case with a space, a code still matches; a wrong
    one says so; Deny tells the device access_denied (RFC 8628 section 3.5)."""
    codes = codes_for(server, tv, "read")
    page.goto(f"{server.issuer}/device")
    sign_in(page)
    page.fill("input[name=user_code]", "BBBB-BBBB")
    page.click("button:has-text('Continue')")
    assert "not right, or it has expired" in page.inner_text(".alert")
    page.fill("input[name=user_code]", codes["user_code"].lower().replace("-", " "))
    page.click("button:has-text('Continue')")
    page.wait_for_selector("button[value=deny]")
    page.click("button[value=deny]")
    page.wait_for_selector("h1:has-text('Access denied')")
    refused = poll(server, tv, codes["device_code"])
    assert (refused.status_code, refused.json()["error"]) == (400, "access_denied")


def test_the_device_pages_fit_a_phone(server: Server, tv: str, browser: Browser) -> None:
    """The pages are used on phones: at 390 px nothing scrolls sideways and the buttons are whole."""
    codes = codes_for(server, tv)
    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page = context.new_page()
        page.goto(codes["verification_uri_complete"])
        sign_in(page)
        for step in ("button:has-text('Continue')", None):
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            if step:
                page.click(step)
                page.wait_for_selector("button[value=allow]")
        allow = page.locator("button[value=allow]").bounding_box()
        assert allow is not None and allow["x"] >= 0 and allow["x"] + allow["width"] <= 390
    finally:
        context.close()
