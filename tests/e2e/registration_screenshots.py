"""Screenshots of dynamic client registration in the browser: the console's Registration
page (an initial access token just made, one used by an app that registered itself) and
the consent page of that app with its "registered itself" warning, at desktop (1280 px)
and phone (390 px) widths.

Run by hand from the repository root:

    PYTHONPATH=$PWD .venv/bin/python -m tests.e2e.registration_screenshots [OUTPUT_DIR]

Writes admin-registration-desktop.png, admin-registration-phone.png,
consent-self-registered-desktop.png and consent-self-registered-phone.png (default OUTPUT_DIR:
docs/screenshots).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, sync_playwright

from tests.e2e import chromium, harness
from tests.e2e.camera import Camera
from tests.support import pkce_pair


def _register(database_url: str, issuer: str) -> str:
    harness.tessera(database_url, "accounts", "update", "acme", "--registration", "token")
    made = harness.tessera_json(database_url, "registration-tokens", "create", "--account", "acme", "--json")
    body = {
        "client_name": "Claude Desktop",
        "redirect_uris": [harness.REDIRECT_URI],
        "logo_uri": "",
        "token_endpoint_auth_method": "none",
    }
    token = made["registration_token"]["full_token"]
    with harness.http_client() as http:
        answer = http.post(f"{issuer}/oauth/register", json=body, headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    client_id: str = answer.json()["client_id"]
    return client_id


def _tour(page: Page, issuer: str, client_id: str, camera: Camera) -> None:
    page.goto(f"{issuer}/admin/registration")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Registration')")
    page.click("button:has-text('Create token')")
    page.wait_for_selector("#client-secret")
    camera.shoot(page, "admin-registration")
    page.goto(f"{issuer}/access/logout")
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read tickets:write",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{issuer}/oauth/authorizations/new?{urlencode(query)}")
    page.fill("input[name=email]", "alice@example.com")
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("text=registered itself")
    camera.shoot(page, "consent-self-registered")


def take(output: Path) -> Camera:
    """The tour; every page checked at both sizes (camera.py), every finding raised at the end."""
    camera = Camera(output)
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'tessera.db'}"
        harness.seed(database_url, subdomain="acme", account_name="Acme Inc")
        with harness.running_server(database_url, Path(directory) / "server.log") as port:
            issuer = f"http://acme.localhost:{port}"
            client_id = _register(database_url, issuer)
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                try:
                    _tour(browser.new_page(), issuer, client_id, camera)
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
