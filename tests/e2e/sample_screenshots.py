"""Screenshots of the sample apps for the docs, at desktop (1280x800) and phone (390x844)
sizes, taken from the real `tessera demo` (demo_process.py).

Run by hand from the repository root:

    PYTHONPATH=$PWD .venv/bin/python -m tests.e2e.sample_screenshots [OUTPUT_DIR]

Writes sample-web-<page>-desktop.png, sample-web-<page>-phone.png and the same for
sample-spa-<page> (default OUTPUT_DIR: docs/screenshots). Full pages, except where the
page opens scrolled to its latest step: there, what the visitor sees first.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e import chromium
from tests.e2e.camera import SIZES, Camera
from tests.e2e.demo_process import ADMIN_EMAIL, ADMIN_PASSWORD, Demo, running_demo


def submit(page: Page, label: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def _sign_in(page: Page, decision: str) -> None:
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.click(f"button[value={decision}]")


def _walk(browser: Browser, demo: Demo, camera: Camera, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        page.goto(demo.apps + "/")
        camera.shoot(page, "sample-web-home", save=(size,))
        page.goto(demo.apps + "/callback")
        camera.shoot(page, "sample-web-callback-empty", save=(size,))
        page.click("button:has-text('Sign in with Tessera')")
        _sign_in(page, "deny")
        page.wait_for_url("**/#latest")
        camera.shoot(page, "sample-web-denied", save=(size,), full_page=False)
        page.click("button:has-text('Sign in with Tessera')")
        page.click("button[value=allow]")
        page.wait_for_url("**/#latest")
        camera.shoot(page, "sample-web-signed-in", save=(size,))
        submit(page, "Refresh the tokens")
        camera.shoot(page, "sample-web-refreshed", save=(size,), full_page=False)
        submit(page, "Revoke")
        submit(page, "Call the API again")
        camera.shoot(page, "sample-web-revoked", save=(size,), full_page=False)
        page.goto(demo.apps + "/spa/")
        page.wait_for_selector("#client-id:not(:text-is('…'))")
        camera.shoot(page, "sample-spa-home", save=(size,))
        page.click("button:has-text('Sign in with Tessera')")
        page.click("button[value=allow]")  # signed in at Tessera already; a new app to allow
        page.wait_for_selector("#latest:has-text('3. Called the API')")
        camera.shoot(page, "sample-spa-signed-in", save=(size,))
    finally:
        context.close()


def take(output: Path) -> Camera:
    """Both walks; every page checked at both sizes (camera.py), every finding raised at the end."""
    camera = Camera(output)
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            # A demo per size: each walk starts with no consent given.
            for size in SIZES:
                (Path(directory) / size).mkdir()
                with running_demo(Path(directory) / size) as demo:
                    _walk(browser, demo, camera, size)
        finally:
            browser.close()
    camera.verify()
    return camera


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    for path in take(output).written:
        print(path)


if __name__ == "__main__":
    main()
