"""Screenshots of the login and consent pages for the docs, taken from a real server.

Run by hand from the repository root:

    .venv/bin/python -m tests.e2e.screenshots [OUTPUT_DIR]

It serves a throwaway SQLite database seeded through the CLI (account "Acme Inc", client
"Example Web App"), opens the authorization URL in Debian's Chromium, and writes
login.png and consent.png (default OUTPUT_DIR: docs/screenshots).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

from tests.e2e import chromium, harness
from tests.e2e.camera import SIZES, Camera
from tests.support import pkce_pair


def take(output: Path) -> Camera:
    """Both pages checked at both sizes (camera.py), every finding raised at the end."""
    camera = Camera(output)
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'tessera.db'}"
        seeded = harness.seed(database_url, subdomain="acme", account_name="Acme Inc")
        with harness.running_server(database_url, Path(directory) / "server.log") as port:
            _verifier, challenge = pkce_pair()
            query = {
                "response_type": "code",
                "client_id": seeded.client["identifier"],
                "redirect_uri": harness.REDIRECT_URI,
                "scope": "read tickets:write",
                "state": "screenshot",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
            url = f"http://acme.localhost:{port}/oauth/authorizations/new?{urlencode(query)}"
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                try:
                    page = browser.new_page(viewport=SIZES["desktop"])  # type: ignore[arg-type]
                    page.goto(url)
                    camera.shoot_as(page, "login.png")
                    page.fill("input[name=email]", "alice@example.com")
                    page.fill("input[name=password]", harness.PASSWORD)
                    page.click("button:has-text('Sign in')")
                    page.wait_for_selector("button[value=allow]")
                    camera.shoot_as(page, "consent.png")
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
