"""Screenshots of every admin console page, at desktop (1280 px) and phone (390 px) widths.

Run by hand from the repository root:

    PYTHONPATH=$PWD .venv/bin/python -m tests.e2e.admin_screenshots [OUTPUT_DIR]

It serves a throwaway SQLite database seeded through the CLI (account "Acme Inc"), adds a
global app that Alice authorized and a few tokens, and writes admin-<page>-desktop.png and
admin-<page>-phone.png (default OUTPUT_DIR: docs/screenshots).
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


def _authorize(issuer: str, client_id: str, email: str) -> None:
    _verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": harness.REDIRECT_URI,
        "scope": "read tickets:write",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    harness.sign_in_and_allow(f"{issuer}/oauth/authorizations/new?{urlencode(query)}", email)


def _seed_more(database_url: str, issuer: str) -> None:
    harness.tessera_json(
        database_url,
        *("clients", "create", "--global", "--name", "Calendar Sync", "--identifier", "calendar-sync"),
        *("--company", "Calendly Labs", "--description", "Turns tickets into calendar events."),
        *("--redirect-uri", harness.REDIRECT_URI),
    )
    _authorize(issuer, "calendar-sync", "alice@example.com")
    harness.tessera_json(
        database_url,
        *("resources", "create", "--account", "acme", "--uri", "https://mcp.example.com/mcp"),
        *("--name", "Support tools (MCP)", "--scope", "tickets:read", "--scope", "users:read"),
    )
    for email in ("alice@example.com", "bob@example.com"):
        harness.tessera_json(
            database_url,
            *("tokens", "create", "--account", "acme", "--client", "example-web", "--user", email, "--scopes", "read"),
        )


def _tour(page: Page, issuer: str, camera: Camera) -> None:
    page.goto(f"{issuer}/admin")
    page.fill("input[name=email]", "admin@example.com")
    page.fill("input[name=password]", harness.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('OAuth clients')")
    page.goto(f"{issuer}/admin/clients/new")
    page.fill("#name", "Reporting")
    page.fill("#identifier", "reporting")
    page.fill("#redirect_uri", "https://reports.example.com/cb\nhttp://reports.example.com/cb")
    page.click("button:has-text('Create client')")
    camera.shoot(page, "admin-client-new-error")
    page.fill("#redirect_uri", "https://reports.example.com/cb\nhttp://127.0.0.1/cb")
    page.fill("#company", "Example Inc")
    page.click("button:has-text('Create client')")
    page.wait_for_selector("#client-secret")
    camera.shoot(page, "admin-client-secret")
    client_path = page.url
    for name, path in (
        ("clients", "/admin/clients"),
        ("client-new", "/admin/clients/new"),
        ("client", client_path),
        ("client-delete", client_path + "/delete"),
        ("apps", "/admin/apps"),
        ("users", "/admin/users"),
        ("user-new", "/admin/users/new"),
        ("tokens", "/admin/tokens"),
        ("audit", "/admin/audit"),
        ("resources", "/admin/resources"),
        ("resource-new", "/admin/resources/new"),
    ):
        page.goto(path if path.startswith("http") else issuer + path)
        camera.shoot(page, f"admin-{name}")
    page.goto(f"{issuer}/admin/users")
    page.click("a.row-title:has-text('Alice')")
    camera.shoot(page, "admin-user")
    page.goto(f"{issuer}/admin/apps")
    page.click("text=Revoke…")
    camera.shoot(page, "admin-app-revoke")
    page.goto(f"{issuer}/admin/resources/new")
    page.fill("#uri", "http://reports.example.com/api#v1")
    page.fill("#scopes", "tickets:read openid")
    page.click("button:has-text('Register resource')")
    camera.shoot(page, "admin-resource-new-error")
    page.goto(f"{issuer}/admin/resources")
    page.click("a:has-text('Delete…')")
    camera.shoot(page, "admin-resource-delete")


def take(output: Path) -> Camera:
    """The tour; every page checked at both sizes (camera.py), every finding raised at the end."""
    camera = Camera(output)
    with tempfile.TemporaryDirectory() as directory:
        database_url = f"sqlite:///{Path(directory) / 'tessera.db'}"
        harness.seed(database_url, subdomain="acme", account_name="Acme Inc")
        with harness.running_server(database_url, Path(directory) / "server.log") as port:
            issuer = f"http://acme.localhost:{port}"
            _seed_more(database_url, issuer)
            with sync_playwright() as playwright:
                browser = chromium.launch(playwright)
                try:
                    _tour(browser.new_page(), issuer, camera)
                    forbidden = browser.new_page()
                    forbidden.goto(f"{issuer}/admin")
                    forbidden.fill("input[name=email]", "alice@example.com")
                    forbidden.fill("input[name=password]", harness.PASSWORD)
                    forbidden.click("button:has-text('Sign in')")
                    forbidden.wait_for_selector("h1:has-text('Admins only')")
                    camera.shoot(forbidden, "admin-forbidden")
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
