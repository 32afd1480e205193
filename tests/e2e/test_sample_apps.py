"""The sample apps, as `make demo` serves them: the real `tessera demo` process (server,
seeded clients, the web app from examples/web_app as its callback and the single-page app
from examples/spa), driven in Chromium through sign-in and consent; and the device-grant
command-line tool run as the README says.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e import harness
from tests.e2e.demo_process import ADMIN_EMAIL, ADMIN_PASSWORD, Demo, running_demo

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_at_tessera(page: Page, demo: Demo, decision: str = "allow") -> None:
    page.wait_for_url(f"{demo.issuer}/access/login**")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.click(f"button[value={decision}]")


def submit(page: Page, label: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def latest(page: Page) -> str:
    return page.inner_text("#latest")


def field(page: Page, label: str) -> str:
    return page.inner_text(f"#latest .field:has(dt:text-is('{label}')) .value")


def test_the_demo_prints_how_to_run_each_sample(demo: Demo) -> None:
    assert f"open {demo.apps}/ and click" in demo.printed
    assert f"Redirect URI  {demo.apps}/callback" in demo.printed
    assert f"{demo.apps}/spa/" in demo.printed
    assert f"examples/device_login.py {demo.issuer} --client-id demo-cli" in demo.printed


def test_the_web_app_signs_in_refreshes_calls_the_api_and_revokes(page: Page, demo: Demo) -> None:
    """A user who first clicks Deny, then signs in again and allows (once allowed, Tessera
    asks no more: the denial comes first)."""
    page.goto(demo.apps + "/")
    page.click("button:has-text('Sign in with Tessera')")
    sign_in_at_tessera(page, demo, decision="deny")
    page.wait_for_url(f"{demo.apps}/#latest")
    assert "Tessera sent you back with an error" in latest(page)
    assert field(page, "error") == "access_denied"
    assert "clicked Deny" in page.inner_text("#latest .advice")
    assert "no token was issued" in latest(page)

    page.click("button:has-text('Sign in with Tessera')")  # already signed in at Tessera
    page.click("button[value=allow]")
    page.wait_for_url(f"{demo.apps}/#latest")
    story = page.inner_text("main")
    assert "2. Tessera sent you back with a code" in story
    assert re.search(r"state\s+\S+\s+✓ matches the one this app sent", story), story
    assert re.search(rf"iss\s+{re.escape(demo.issuer)}\s+✓ is the account this app asked", story), story
    assert re.search(r"code\s+tsc_\S+\s+Copy", story), story
    assert "ID token claims" in story and f'"iss": "{demo.issuer}"' in story
    assert "4. Called the API with the access token" in story
    assert latest(page).count(ADMIN_EMAIL) >= 1 and "HTTP 200" in latest(page)
    first_access = page.get_attribute("button[aria-label='Copy access_token']", "data-copy")
    assert first_access and first_access.startswith("tsa_")
    assert first_access not in story  # shown shortened only

    submit(page, "Refresh the tokens")
    assert "Refreshed the tokens" in latest(page)
    old, new = field(page, "old access_token"), field(page, "new access_token")
    assert old.startswith(first_access[:10]) and not new.startswith(first_access[:10])
    assert field(page, "old refresh_token") != field(page, "new refresh_token")

    submit(page, "Call the API again")
    assert "Called the API again" in latest(page) and "HTTP 200" in latest(page)

    submit(page, "Revoke")
    assert "Revoked the refresh token" in latest(page) and "HTTP 200" in latest(page)
    submit(page, "Call the API again")
    assert "HTTP 401" in latest(page) and "revoked" in latest(page)

    submit(page, "Start over")
    assert page.is_visible("button:has-text('Sign in with Tessera')")
    assert "What happened" not in page.inner_text("main")


def test_the_callback_opened_by_hand_says_no_code_came(page: Page, demo: Demo) -> None:
    page.goto(demo.apps + "/callback")
    text = page.inner_text("main")
    assert "no authorization code was received" in text
    assert "sent you back with a code" not in text


def test_a_code_with_a_foreign_state_is_not_exchanged(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.apps}/callback?code=tsc_forged&state=forged&iss={demo.issuer}")
    assert "An answer this app did not ask for" in latest(page)
    assert "not exchanged" in latest(page)
    assert "Exchanged the code" not in page.inner_text("main")


def test_the_single_page_app_signs_in_and_calls_the_api(page: Page, demo: Demo) -> None:
    page.goto(demo.apps + "/spa/")
    page.click("button:has-text('Sign in with Tessera')")
    sign_in_at_tessera(page, demo)
    page.wait_for_selector("#latest:has-text('3. Called the API')")
    assert page.url == f"{demo.apps}/spa/"  # the code left the address bar
    text = page.inner_text("main")
    assert "✓ matches the one this page sent" in text
    assert "HTTP 200" in latest(page) and ADMIN_EMAIL in latest(page)
    stored = page.evaluate("() => JSON.stringify([localStorage, sessionStorage, document.cookie])")
    assert "tsa_" not in stored  # the token is in memory only
    page.click("button:has-text('Call the API again')")  # no page load: the script calls
    page.wait_for_selector("#latest:has-text('Called the API again')")
    assert "HTTP 200" in latest(page)


def test_the_device_login_tool_signs_in_from_a_terminal(browser: Browser, demo: Demo, tmp_path: Path) -> None:
    """The README's command, as printed by the demo, against the demo's public CLI client."""
    command = [sys.executable, str(harness.ROOT / "examples" / "device_login.py"), demo.issuer]
    command += ["--client-id", "demo-cli", "--scope", "openid read"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as tool:
        assert tool.stdout is not None
        first = tool.stdout.readline()
        assert first.startswith(f"To sign in, open {demo.issuer}/device and enter the code "), first
        link = tool.stdout.readline().strip().removeprefix("(or open ").removesuffix(")")
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(link)
            page.fill("input[name=email]", ADMIN_EMAIL)
            page.fill("input[name=password]", ADMIN_PASSWORD)
            page.click("button:has-text('Sign in')")
            page.click("button:has-text('Continue')")
            page.click("button[value=allow]")
        finally:
            context.close()
        printed, errors = tool.communicate(timeout=30)
    assert tool.returncode == 0, errors
    assert '"access_token": "tsa_' in printed


def test_the_web_app_runs_on_its_own(demo: Demo, tmp_path: Path) -> None:
    """`python -m examples.web_app ISSUER --client-id ID` with CLIENT_SECRET, as the README
    says: it serves on its own port and sends the browser to the account with PKCE."""
    port = harness.free_port()
    command = [sys.executable, "-m", "examples.web_app", demo.issuer, "--client-id", "demo-app", "--port", str(port)]
    env = {**harness.clean_env(), "CLIENT_SECRET": demo.secret}
    with subprocess.Popen(command, cwd=harness.ROOT, env=env, stdout=subprocess.PIPE, text=True) as app:
        try:
            assert app.stdout is not None
            assert app.stdout.readline().startswith(f"Sample web app on http://127.0.0.1:{port}/")
            with harness.http_client() as http:
                sent = _retry(lambda: http.post(f"http://127.0.0.1:{port}/login"))
            assert sent.status_code == 303
            location = sent.headers["location"]
            assert location.startswith(f"{demo.issuer}/oauth/authorizations/new?")
            assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fcallback" in location
            assert "code_challenge_method=S256" in location
        finally:
            harness.stop(app)


def _retry(send: Callable[[], httpx.Response]) -> httpx.Response:
    """uvicorn prints its address before it listens: try for a few seconds."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return send()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
