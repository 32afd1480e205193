"""The admin console in Chromium against a real server (INTERFACE.md section 6, "The
console"): an admin registers a client with two redirect URIs (a bad third line is refused
with its line number), copies the secret shown once, an app completes the authorization
code flow with it, the admin revokes the app's token in the console (after its confirmation
page), and the app's next API call is refused (RFC 6750 section 3.1, invalid_token). An end
user gets the 403 page.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import pkce_pair, query_of

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ALICE = "alice@example.com"
ADMIN = "admin@example.com"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    try:
        yield context
    finally:
        context.close()


def sign_in_to_console(page: Page, server: Server, email: str) -> int:
    """Open /admin signed out, sign in on the login page; the status of the page it returns to."""
    page.goto(f"{server.issuer}/admin")
    assert page.url.startswith(f"{server.issuer}/access/login?return_to=%2Fadmin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", harness.PASSWORD)
    with page.expect_response(f"{server.issuer}/admin") as back:
        page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    return back.value.status


def test_admin_registers_a_client_and_revokes_its_token(server: Server, context: BrowserContext) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.issuer)
    page = context.new_page()
    assert sign_in_to_console(page, server, ADMIN) == 200
    assert page.inner_text("h1") == "OAuth clients"
    assert "Ada Admin" in page.inner_text(".console-header")

    page.click("text=New client")
    page.fill("#name", "Browser Reports")
    page.fill("#identifier", "browser-reports")
    page.check("input[name=kind][value=confidential]")
    page.fill("#redirect_uri", "http://127.0.0.1/cb\nhttps://reports.example.com/cb\nhttp://reports.example.com/cb")
    page.click("button:has-text('Create client')")
    errors = page.inner_text("#redirect_uri-error")
    assert "line 3" in errors and "http://reports.example.com/cb" in errors
    assert page.get_attribute("#redirect_uri", "aria-invalid") == "true"

    page.fill("#redirect_uri", "http://127.0.0.1/cb\nhttps://reports.example.com/cb")
    page.click("button:has-text('Create client')")
    page.wait_for_selector("#client-secret")
    assert "was created" in page.inner_text(".flash")
    secret = page.input_value("#client-secret")
    assert secret.startswith("tss_")
    page.click("button[data-copy]")  # the copy button runs under the page's CSP (a nonce)
    page.wait_for_selector("button[data-copy]:has-text('Copied')")  # the clipboard answers asynchronously
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.reload()
    assert page.query_selector("#client-secret") is None  # shown exactly once

    # The app: the authorization code flow with the copied secret, PKCE, a loopback redirect.
    redirect_uri = f"http://127.0.0.1:{harness.free_port()}/cb"
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": "browser-reports",
        "redirect_uri": redirect_uri,
        "scope": "read",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    authorized = harness.sign_in_and_allow(f"{server.issuer}/oauth/authorizations/new?{urlencode(query)}", ALICE)
    code = query_of(authorized.location)["code"]
    with harness.http_client() as http:
        exchanged = http.post(
            f"{server.issuer}/oauth/tokens",
            auth=("browser-reports", secret),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        assert exchanged.status_code == 200, exchanged.text
        bearer = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
        assert http.get(f"{server.issuer}/api/v2/users/me", headers=bearer).status_code == 200

        page.click("nav >> text=Tokens")
        page.select_option("#f-client", label="Browser Reports")
        # The filter is a GET form: count the rows of the page it loads, once it has loaded
        # (counting straight after the click raced the navigation and found none).
        with page.expect_navigation(wait_until="load"):
            page.click("button:has-text('Filter')")
        rows = page.locator("table.data tbody tr")
        assert rows.count() == 1
        assert "Alice" in rows.first.inner_text()
        rows.first.locator("a:has-text('Revoke')").click()
        # The confirmation page names the token's app and user; nothing is revoked yet.
        page.wait_for_selector("h1:has-text('Revoke the token of Browser Reports for Alice')")
        assert http.get(f"{server.issuer}/api/v2/users/me", headers=bearer).status_code == 200
        page.click("button:has-text('Revoke token')")
        page.wait_for_selector(".flash")
        assert "was revoked" in page.inner_text(".flash")
        assert "No tokens match" in page.inner_text("main")

        after = http.get(f"{server.issuer}/api/v2/users/me", headers=bearer)
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]


def test_an_end_user_opening_the_console_gets_a_403_page(server: Server, context: BrowserContext) -> None:
    page = context.new_page()
    assert sign_in_to_console(page, server, ALICE) == 403
    assert page.inner_text("h1") == "Admins only"
    assert "Sign in as an admin" in page.inner_text("main")
