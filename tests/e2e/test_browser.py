"""The authorization code flow in Chromium (Playwright) against a real server: the real login
page, the real consent page, the redirect to a loopback client (RFC 8252 section 7.3, any
port), then the code exchanged with httpx. And INTERFACE.md section 5: pages cannot be framed.

Chromium is Debian's (/usr/bin/chromium); `playwright install` is never needed.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, Response, Route

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import pkce_pair, query_of

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ALICE = "alice@example.com"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_cannot_be_framed(response: Response) -> None:
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_sign_in_and_allow_in_chromium(server: Server, page: Page) -> None:
    redirect_uri = f"http://127.0.0.1:{harness.free_port()}/cb"  # registered as http://127.0.0.1/cb
    arrivals: list[str] = []

    def client_callback(route: Route) -> None:
        arrivals.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><h1>Client callback</h1>")

    page.route(f"{redirect_uri}?*", client_callback)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": server.client["identifier"],
        "redirect_uri": redirect_uri,
        "scope": "read",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    login = page.goto(f"{server.issuer}/oauth/authorizations/new?{urlencode(query)}")
    assert login is not None
    assert page.url.startswith(f"{server.issuer}/access/login?return_to=")
    assert login.status == 200
    assert_cannot_be_framed(login)
    assert page.inner_text("h1") == "Sign in"
    assert page.title() == "Sign in · Acme Inc"
    assert "to continue to Example Web App" in page.inner_text(".card")

    page.fill("input[name=email]", ALICE)
    page.fill("input[name=password]", harness.PASSWORD)
    with page.expect_response(lambda r: r.url.startswith(f"{server.issuer}/oauth/authorizations/new?")) as shown:
        page.click("button:has-text('Sign in')")
    consent = shown.value
    assert consent.status == 200
    assert_cannot_be_framed(consent)
    page.wait_for_load_state()
    assert page.inner_text("h1") == "Allow Example Web App to access your Acme Inc account?"
    assert "Signed in as alice@example.com" in page.inner_text(".card")

    page.click("button[value=allow]")
    page.wait_for_url(f"{redirect_uri}?*")
    assert page.inner_text("h1") == "Client callback"
    assert len(arrivals) == 1
    response = query_of(page.url)
    assert response["state"] == state
    assert response["iss"] == f"http://acme.localhost:{server.port}"

    with harness.http_client() as http:
        token = http.post(
            f"{server.issuer}/oauth/tokens",
            auth=(server.client["identifier"], server.client["secret"]),
            data={
                "grant_type": "authorization_code",
                "code": response["code"],
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
        )
        assert token.status_code == 200, token.text
        access_token = token.json()["access_token"]
        me = http.get(f"{server.issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == ALICE
    assert me.json()["user"]["id"] == server.user(ALICE)["id"]


@contextlib.contextmanager
def framing_site(body: str) -> Iterator[str]:
    """Another origin (http://127.0.0.1:PORT), served for real: Chromium refuses frames from
    a public page into a loopback server (Private Network Access), so the framer is local too."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=5)


def test_another_site_cannot_frame_the_login_page(server: Server, page: Page) -> None:
    """A real framing attempt from another origin; the stylesheet frame is the control that
    shows a frame from this server does render when nothing forbids it."""
    body = (
        "<!doctype html>"
        f'<iframe id="login" src="{server.issuer}/access/login"></iframe>'
        f'<iframe id="control" src="{server.issuer}/assets/tessera.css"></iframe>'
    )
    with framing_site(body) as framer:
        page.goto(framer, wait_until="load")
        control = page.frame_locator("#control").locator("body")
        assert "--accent" in control.inner_text(timeout=10_000)
        login_frame = page.query_selector("#login")
        assert login_frame is not None
        frame = login_frame.content_frame()
        assert frame is not None
        assert frame.query_selector("input[name=password]") is None
        assert "Sign in" not in frame.content()
