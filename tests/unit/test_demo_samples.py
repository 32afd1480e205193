"""`tessera demo` and the sample apps (tessera/cli/demo_samples.py): served from the
clone's examples/ folder; an installation without it serves the demo alone and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tessera.cli import demo_samples, demo_seed
from tessera.settings import Settings

ISSUER = "http://demo.localhost:8000"


def _web_app() -> object:
    return demo_samples.web_app(ISSUER, "demo-app", "tss_secret", "http://127.0.0.1:8765/callback", "demo-spa")


def test_the_clone_serves_the_web_app_and_the_single_page_app() -> None:
    app = _web_app()
    assert app is not None
    with TestClient(app) as browser:  # type: ignore[arg-type]
        assert "Sign in with Tessera" in browser.get("/").text
        empty = browser.get("/callback")
        assert empty.status_code == 200
        assert "no authorization code was received" in empty.text
        assert browser.get("/spa/").status_code == 200
        config = browser.get("/spa/config.json").json()
        assert config["client_id"] == "demo-spa"
        assert config["issuer"] == ISSUER


def test_without_examples_the_demo_runs_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(demo_samples, "WEB_APP", tmp_path / "examples" / "web_app")
    assert _web_app() is None
    printed = demo_seed.instructions(
        Settings(database_url="sqlite://", base_domain="localhost", scheme="http"),
        demo_seed.Seeded(secret="tss_secret"),
        8000,
        8765,
        samples=False,
    )
    assert "come with a clone" in printed and "run `make demo` there" in printed
    assert "open http://127.0.0.1:8765/" not in printed
