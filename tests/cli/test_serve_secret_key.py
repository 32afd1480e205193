"""Issue "Secrets": `tessera serve` refuses a missing or weak TESSERA_SECRET_KEY when it
serves a base domain other than localhost (the key signs sessions and CSRF tokens and
encrypts the signing keys at rest, INTERFACE.md section 5): one line on stderr, exit 2,
and no server started. On localhost the key kept beside the SQLite file is fine."""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e import harness

PUBLIC = "auth.example.com"


def serve(tmp_path: Path, key: str | None, base_domain: str = PUBLIC) -> subprocess.CompletedProcess[str]:
    env = harness.clean_env(None)
    env["TESSERA_BASE_DOMAIN"] = base_domain
    if key is not None:
        env["TESSERA_SECRET_KEY"] = key
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    return harness.tessera(url, "serve", "--port", str(harness.free_port()), env=env)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("k" * 31, "shorter than 32"),
        ("a" * 64, "fewer than 8 different characters"),
        ("abab" * 20, "fewer than 8 different characters"),
        ("0123456789" * 4, "repeats a pattern of 10 characters"),
    ],
    ids=["missing", "empty", "short", "one-character", "two-characters", "repeated-pattern"],
)
def test_serve_off_localhost_refuses_a_weak_or_missing_key(tmp_path: Path, key: str | None, says: str) -> None:
    done = serve(tmp_path, key)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "TESSERA_SECRET_KEY" in done.stderr and says in done.stderr, done.stderr
    assert PUBLIC in done.stderr
    # Refused before anything was set up: no database, no generated key file.
    assert list(tmp_path.iterdir()) == []


def _starts(tmp_path: Path, key: str | None, base_domain: str) -> None:
    """`tessera serve` with this key comes up and answers /healthz."""
    env = harness.clean_env(None)
    env["TESSERA_BASE_DOMAIN"] = base_domain
    if key is not None:
        env["TESSERA_SECRET_KEY"] = key
    port = harness.free_port()
    command = [harness.TESSERA, "--database-url", f"sqlite:///{tmp_path / 'tessera.db'}", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("tessera serve did not answer /healthz within 20 s")
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_serve_off_localhost_accepts_a_random_key(tmp_path: Path) -> None:
    _starts(tmp_path, secrets.token_urlsafe(48), PUBLIC)


def test_serve_on_localhost_needs_no_key(tmp_path: Path) -> None:
    _starts(tmp_path, None, "localhost")
