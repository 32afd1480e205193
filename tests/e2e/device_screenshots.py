"""Screenshots of the device pages (RFC 8628's verification URI) for the docs, at desktop
(1280 px) and phone (390 px) widths, taken from a real server.

Run by hand from the repository root:

    PYTHONPATH=$PWD .venv/bin/python -m tests.e2e.device_screenshots [OUTPUT_DIR]

It serves a throwaway SQLite database seeded through the CLI (account "Acme Inc", a TV app
allowed the device grant, and one that registered itself), asks for device codes as a TV
would, and walks the pages as Alice (and Bob, for the throttle), writing
device-<page>-desktop.png and device-<page>-phone.png (default OUTPUT_DIR: docs/screenshots).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e import chromium, harness
from tests.e2e.camera import Camera

# Two wrong codes, then the throttle's page (the default is 10: docs/reliability.md).
ENV = {"TESSERA_THROTTLE_USER_CODE_PER_USER": "2"}


def _clients(database_url: str) -> None:
    harness.tessera_json(
        database_url,
        *("clients", "create", "--account", "acme", "--name", "Living Room TV", "--identifier", "living-room-tv"),
        *("--company", "Example Inc", "--description", "Watch your team's ticket dashboard on the big screen."),
        *("--kind", "public", "--grant-type", "device_code", "--grant-type", "refresh_token"),
    )
    harness.tessera_json(
        database_url,
        *("clients", "create", "--account", "acme", "--name", "Ticket Helper CLI", "--identifier", "ticket-helper"),
        *("--kind", "public", "--grant-type", "device_code"),
    )
    # Registration through the API is another part's; the page only reads this column.
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE clients SET registration = 'dynamic' WHERE identifier = 'ticket-helper'"))
    engine.dispose()


def _codes(issuer: str, client_id: str, scope: str) -> dict[str, Any]:
    with harness.http_client() as device:
        answer = device.post(f"{issuer}/oauth/device/code", data={"client_id": client_id, "scope": scope})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


def _signed_in(browser: Browser, email: str, link: str, camera: Camera | None = None) -> Page:
    page = browser.new_page()
    page.goto(link)
    if camera is not None:
        camera.shoot(page, "device-sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Connect a device')")
    return page


def _tour(browser: Browser, issuer: str, camera: Camera) -> None:
    tv = _codes(issuer, "living-room-tv", "read tickets:write openid")
    page = _signed_in(browser, "alice@example.com", f"{issuer}/device", camera)
    camera.shoot(page, "device-code")
    page.fill("input[name=user_code]", "BBBB-BBBB")
    page.click("button:has-text('Continue')")
    page.wait_for_selector(".alert")
    camera.shoot(page, "device-code-wrong")
    page.goto(tv["verification_uri_complete"])
    camera.shoot(page, "device-code-filled")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("button[value=allow]")
    camera.shoot(page, "device-confirm")
    page.click("button[value=allow]")
    page.wait_for_selector("h1:has-text('Device connected')")
    camera.shoot(page, "device-allowed")
    helper = _codes(issuer, "ticket-helper", "read")
    page.goto(helper["verification_uri_complete"])
    page.click("button:has-text('Continue')")
    page.wait_for_selector("button[value=deny]")
    camera.shoot(page, "device-confirm-unverified")
    page.click("button[value=deny]")
    page.wait_for_selector("h1:has-text('Access denied')")
    camera.shoot(page, "device-denied")
    bob = _signed_in(browser, "bob@example.com", f"{issuer}/device")
    for wrong in ("BBBB-BBBB", "BBBB-BBBC", "BBBB-BBBD"):
        bob.fill("input[name=user_code]", wrong)
        bob.click("button:has-text('Continue')")
        bob.wait_for_load_state()
        if "Too many" in bob.inner_text("h1"):
            break
        bob.wait_for_selector(".alert")
    camera.shoot(bob, "device-throttled")


def take(output: Path) -> Camera:
    """The tour; every page checked at both sizes (camera.py), every finding raised at the end."""
    camera = Camera(output)
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'tessera.db'}"
        harness.seed(database_url, subdomain="acme", account_name="Acme Inc")
        _clients(database_url)
        with harness.running_server(database_url, Path(directory) / "server.log", env=ENV) as port:
            issuer = f"http://acme.localhost:{port}"
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                try:
                    _tour(browser, issuer, camera)
                finally:
                    browser.close()
    camera.verify()
    return camera


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else harness.ROOT / "docs" / "screenshots"
    for path in take(output).written:
        print(path)


if __name__ == "__main__":
    main()
