"""Tessera's own pages in headless Chromium, at 1280x800 and 390x844, each checked by
axe-core for serious and critical WCAG 2.2 A/AA violations (accessibility.py): sign-in,
password reset by e-mail (the link caught by a local SMTP server), consent, authorized
apps and the revoke confirmation, the error pages, the platform host's account chooser (and
its Cancel) and the device pages.

Screenshots go to a temporary folder; to refresh the docs' copies, run

    TESSERA_SCREENSHOTS=docs/screenshots PYTHONPATH=$PWD .venv/bin/pytest tests/e2e/test_pages_browser.py

which writes pages-<page>-desktop.png and pages-<page>-phone.png there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, Page, Route

from tessera import mail_catcher
from tessera.mail_catcher import MailCatcher
from tests.e2e import harness
from tests.e2e.camera import SIZES, Camera
from tests.support import pkce_pair

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "lantern orchard quietly 47"


@dataclass
class Site:
    port: int
    catcher: MailCatcher
    camera: Camera

    @property
    def issuer(self) -> str:
        return f"http://acme.localhost:{self.port}"

    @property
    def platform(self) -> str:
        return f"http://localhost:{self.port}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("pages")
    database_url = f"sqlite:///{directory / 'tessera.db'}"
    harness.seed(database_url)
    harness.tessera_json(
        database_url,
        *("clients", "create", "--global", "--name", "Everywhere Reports", "--identifier", "everywhere"),
        *("--redirect-uri", harness.REDIRECT_URI, "--grant-type", "authorization_code"),
    )
    harness.tessera_json(
        database_url,
        *("clients", "create", "--account", "acme", "--name", "Living Room TV", "--identifier", "living-room-tv"),
        *("--kind", "public", "--grant-type", "device_code"),
    )
    # Names, a company and a description of one long word each: they must wrap in the card.
    harness.tessera_json(
        database_url,
        *("clients", "create", "--account", "acme", "--identifier", "long-names", "--redirect-uri"),
        harness.REDIRECT_URI,
        *("--name", "Northwindlogisticsintegrationconnectorforeverything"),
        *("--company", "Northwindlogisticsinternationalholdingscompany"),
        *("--description", "Docs: https://docs.northwind-logistics.example.com/integrations/tessera/getting-started"),
    )
    camera = Camera(Path(os.environ.get("TESSERA_SCREENSHOTS") or directory / "screenshots"))
    with (
        MailCatcher() as catcher,
        harness.running_server(database_url, directory / "server.log", env=catcher.environment()) as port,
    ):
        yield Site(port, catcher, camera)


def check(site: Site, page: Page, name: str) -> None:
    """Screenshots at both sizes, and what axe and the layout check find at each, remembered."""
    site.camera.shoot(page, f"pages-{name}")


def authorization_url(site: Site, client_id: str = "example-web", host: str | None = None, **extra: str) -> str:
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read tickets:write",
        "state": "pages",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{host or site.issuer}/oauth/authorizations/new?{urlencode(query)}"


def the_app_receives(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>App</title><p>Back in the app.</p>")


def test_every_page_at_both_sizes_without_serious_accessibility_violations(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport=SIZES["desktop"])  # type: ignore[arg-type]
    context.route("http://127.0.0.1/cb**", the_app_receives)
    page = context.new_page()
    try:
        walk(site, page)
    finally:
        context.close()
    site.camera.verify()
    assert len(site.camera.written) == 2 * 19


def walk(site: Site, page: Page) -> None:
    # Sign-in, asked by an app; a wrong password first.
    page.goto(authorization_url(site))
    check(site, page, "sign-in")
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", "not the password")
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("p.alert")
    check(site, page, "sign-in-error")

    # Password reset: the link from the sign-in page, the e-mail, the new password.
    page.click("a:has-text('Forgot your password?')")
    assert page.input_value("input[name=email]") == "alice@example.com"
    check(site, page, "forgot")
    page.click("button:has-text('Send the link')")
    page.wait_for_selector("h1:has-text('Check your e-mail')")
    check(site, page, "forgot-sent")
    (mail,) = site.catcher.wait_for(1)
    (link,) = mail_catcher.links(mail)
    assert link.startswith(f"{site.issuer}/access/password/reset?token=")
    page.goto(link)
    check(site, page, "reset")
    page.fill("input[name=password]", "password123")
    page.fill("input[name=password_confirmation]", "password123")
    page.click("button:has-text('Set the new password')")
    page.wait_for_selector("p.alert:has-text('most common passwords')")
    check(site, page, "reset-weak")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_confirmation]", NEW_PASSWORD)
    page.click("button:has-text('Set the new password')")
    page.wait_for_selector("h1:has-text('Your password is set')")
    check(site, page, "reset-done")
    page.goto(link)
    page.wait_for_selector("h1:has-text('This link no longer works')")
    check(site, page, "reset-unusable")

    # Consent, with the new password.
    page.goto(authorization_url(site))
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("button[value=allow]")
    check(site, page, "consent")
    page.click("button[value=allow]")
    page.wait_for_url("http://127.0.0.1/cb**")
    page.goto(authorization_url(site, client_id="long-names"))
    page.wait_for_selector("button[value=allow]")
    check(site, page, "consent-long-words")

    # Authorized apps, and the confirmation before revoking.
    page.goto(f"{site.issuer}/access/apps")
    check(site, page, "apps")
    page.click("a:has-text('Revoke')")
    page.wait_for_selector("h1:has-text('Revoke access for Example Web App?')")
    check(site, page, "apps-revoke")

    # Error pages: a request that cannot be trusted, with its details opened; nothing here.
    page.goto(authorization_url(site, redirect_uri="https://elsewhere.example/cb"))
    check(site, page, "authorization-error")
    page.click("summary")
    check(site, page, "authorization-error-details")
    page.goto(f"{site.issuer}/no-such-page", wait_until="load")
    check(site, page, "not-found")

    # The platform host's account chooser: what was typed stays after an error.
    page.goto(authorization_url(site, client_id="everywhere", host=site.platform))
    check(site, page, "chooser")
    page.fill("input[name=subdomain]", "acme-inc")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("p.alert")
    assert page.input_value("input[name=subdomain]") == "acme-inc"
    check(site, page, "chooser-error")
    # Cancel: back to the app with access_denied (RFC 6749 section 4.1.2.1), the field's
    # `required` notwithstanding; Enter in the field still continues.
    page.fill("input[name=subdomain]", "")
    page.click("button:has-text('Cancel')")
    page.wait_for_url("http://127.0.0.1/cb**")
    assert "error=access_denied" in page.url and "state=pages" in page.url
    page.goto(authorization_url(site, client_id="everywhere", host=site.platform))
    page.fill("input[name=subdomain]", "acme")
    page.press("input[name=subdomain]", "Enter")
    page.wait_for_url(f"{site.issuer}/oauth/authorizations/new?**")

    # The device pages: the code form and the confirmation.
    with harness.http_client() as device:
        codes = device.post(f"{site.issuer}/oauth/device/code", data={"client_id": "living-room-tv", "scope": "read"})
        assert codes.status_code == 200, codes.text
    page.goto(f"{site.issuer}/device")
    check(site, page, "device-code")
    page.fill("input[name=user_code]", codes.json()["user_code"])
    page.click("button[type=submit]")
    page.wait_for_selector("button[value=allow]")
    check(site, page, "device-confirm")
