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


def _command(tmp_path: Path, key: str | None, base_domain: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = harness.clean_env(None)
    env["TESSERA_BASE_DOMAIN"] = base_domain
    if key is not None:
        env["TESSERA_SECRET_KEY"] = key
    return harness.tessera(f"sqlite:///{tmp_path / 'tessera.db'}", *args, env=env)


def test_a_command_off_localhost_makes_no_key_file(tmp_path: Path) -> None:
    """INTERFACE.md section 1: the key is generated beside an SQLite database; off localhost
    the server refuses to serve without TESSERA_SECRET_KEY, so a key a command made there
    would seal signing keys that the server's key could not open. The command says so."""
    done = _command(tmp_path, None, PUBLIC, "accounts", "create", "zed")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "TESSERA_SECRET_KEY is not set" in done.stderr and PUBLIC in done.stderr
    assert "secrets.token_urlsafe" in done.stderr
    assert not (tmp_path / "tessera.db.secret_key").exists()
    assert not (tmp_path / "tessera.db").exists()


def test_off_localhost_a_missing_key_names_the_key_file_the_database_already_has(tmp_path: Path) -> None:
    """A database made on localhost keeps its signing keys sealed under the key file beside
    it: serving it, or running a command on it, off localhost is told to use that key."""
    assert _command(tmp_path, None, "localhost", "accounts", "create", "zed").returncode == 0
    key_file = tmp_path / "tessera.db.secret_key"
    for args in (("serve", "--port", str(harness.free_port())), ("accounts", "create", "yew")):
        done = _command(tmp_path, None, PUBLIC, *args)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert f"sealed with the key in {key_file}" in done.stderr, done.stderr
    with_its_key = _command(tmp_path, key_file.read_text().strip(), PUBLIC, "accounts", "create", "yew")
    assert with_its_key.returncode == 0, with_its_key.stderr


def test_serve_refuses_a_key_that_cannot_open_the_stored_signing_keys(tmp_path: Path) -> None:
    """Every token signed with a key the secret key cannot decrypt would fail: serve says
    so at start, in one line, and no server starts (a node given another TESSERA_SECRET_KEY
    than the one the keys were stored with, or a new key where the key file was used)."""
    assert _command(tmp_path, None, "localhost", "accounts", "create", "zed").returncode == 0
    done = _command(tmp_path, secrets.token_urlsafe(48), PUBLIC, "serve", "--port", str(harness.free_port()))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "cannot be decrypted with this secret key" in line and "TESSERA_SECRET_KEY" in line
