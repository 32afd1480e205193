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
from tests.e2e.demo_process import ADMIN_EMAIL, ADMIN_PASSWORD, Demo, running_demo

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def submit(page: Page, label: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def _sign_in(page: Page, decision: str) -> None:
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.click(f"button[value={decision}]")


def _shoot(page: Page, path: Path, full_page: bool = True) -> Path:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], f"{path.name}: {width} px wide"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _walk(browser: Browser, demo: Demo, output: Path, size: str) -> list[Path]:
    shots: list[Path] = []
    context = browser.new_context(viewport=SIZES[size])  # type: ignore[arg-type]
    page = context.new_page()
    try:
        page.goto(demo.apps + "/")
        shots.append(_shoot(page, output / f"sample-web-home-{size}.png"))
        page.goto(demo.apps + "/callback")
        shots.append(_shoot(page, output / f"sample-web-callback-empty-{size}.png"))
        page.click("button:has-text('Sign in with Tessera')")
        _sign_in(page, "deny")
        page.wait_for_url("**/#latest")
        shots.append(_shoot(page, output / f"sample-web-denied-{size}.png", full_page=False))
        page.click("button:has-text('Sign in with Tessera')")
        page.click("button[value=allow]")
        page.wait_for_url("**/#latest")
        shots.append(_shoot(page, output / f"sample-web-signed-in-{size}.png"))
        submit(page, "Refresh the tokens")
        shots.append(_shoot(page, output / f"sample-web-refreshed-{size}.png", full_page=False))
        submit(page, "Revoke")
        submit(page, "Call the API again")
        shots.append(_shoot(page, output / f"sample-web-revoked-{size}.png", full_page=False))
        page.goto(demo.apps + "/spa/")
        page.wait_for_selector("#client-id:not(:text-is('…'))")
        shots.append(_shoot(page, output / f"sample-spa-home-{size}.png"))
        page.click("button:has-text('Sign in with Tessera')")
        page.click("button[value=allow]")  # signed in at Tessera already; a new app to allow
        page.wait_for_selector("#latest:has-text('3. Called the API')")
        shots.append(_shoot(page, output / f"sample-spa-signed-in-{size}.png"))
    finally:
        context.close()
    return shots


def take(output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        try:
            # A demo per size: each walk starts with no consent given.
            for size in SIZES:
                (Path(directory) / size).mkdir()
                with running_demo(Path(directory) / size) as demo:
                    shots += _walk(browser, demo, output, size)
        finally:
            browser.close()
    return shots


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")
    for path in take(output):
        print(path)


if __name__ == "__main__":
    main()
