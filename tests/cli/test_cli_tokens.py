"""`tessera tokens create` (INTERFACE.md section 1): a token that works where clients reach
the server, and never one that fails at once."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path

from argon2 import PasswordHasher

from tests.e2e import harness

ISSUE = ("tokens", "create", "--account", "acme", "--client", "jw", "--user", "a@acme.example", "--scopes", "read")


def claims_of(jwt: str) -> dict[str, object]:
    payload = jwt.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def test_port_names_the_issuer_clients_reach(seeded: Path) -> None:
    """A JWT access token carries its issuer (RFC 9068 section 2.2), which the server checks
    against the origin it is reached at, port included: `serve --port 8000` is reached at
    http://acme.localhost:8000. --port says so; the scheme's own port is left out."""
    url = f"sqlite:///{seeded}"
    on_8000 = harness.tessera(url, *ISSUE, "--port", "8000", "--json")
    assert on_8000.returncode == 0, on_8000.stderr
    token = json.loads(on_8000.stdout)["token"]
    assert claims_of(token["full_token"])["iss"] == "http://acme.localhost:8000"
    assert token["url"].startswith("http://acme.localhost:8000/")
    on_80 = harness.tessera(url, *ISSUE, "--port", "80", "--json")
    assert claims_of(json.loads(on_80.stdout)["token"]["full_token"])["iss"] == "http://acme.localhost"


def test_on_localhost_the_issuer_is_tessera_serves_own_port_by_default(seeded: Path) -> None:
    """Without --port, a token for a JWT client works on `tessera serve` as started with
    its defaults (INTERFACE.md section 2: the issuer http://acme.localhost:8000)."""
    done = harness.tessera(f"sqlite:///{seeded}", *ISSUE, "--json")
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["token"]
    assert claims_of(token["full_token"])["iss"] == "http://acme.localhost:8000"
    assert token["url"].startswith("http://acme.localhost:8000/")


def test_a_suspended_user_gets_no_token(seeded: Path, tmp_path: Path) -> None:
    """Its tokens would be refused at once (INTERFACE.md section 6)."""
    copy = tmp_path / "copy.db"
    shutil.copy(seeded, copy)
    shutil.copy(seeded.with_name(seeded.name + ".secret_key"), copy.with_name(copy.name + ".secret_key"))
    url = f"sqlite:///{copy}"
    second = ("users", "create", "--account", "acme", "--email", "b@acme.example", "--password", harness.PASSWORD)
    assert harness.tessera(url, *second).returncode == 0
    suspend = harness.tessera(url, "users", "update", "--account", "acme", "b@acme.example", "--suspend")
    assert suspend.returncode == 0, suspend.stderr
    refused = harness.tessera(url, *ISSUE[:6], "--user", "b@acme.example", "--scopes", "read")
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.splitlines()) == 1 and "suspended" in refused.stderr


def test_set_password_lets_the_user_sign_in_with_it(seeded: Path, tmp_path: Path) -> None:
    """For an account that sends no e-mail: an admin sets the password (docs/password-reset.md)."""
    copy = tmp_path / "copy.db"
    shutil.copy(seeded, copy)
    shutil.copy(seeded.with_name(seeded.name + ".secret_key"), copy.with_name(copy.name + ".secret_key"))
    url = f"sqlite:///{copy}"
    new = "a new long passphrase 42"
    done = harness.tessera(url, "users", "set-password", "--account", "acme", "a@acme.example", "--password", new)
    assert done.returncode == 0, done.stderr
    assert "set a new password for a@acme.example" in done.stdout
    weak = harness.tessera(url, "users", "set-password", "--account", "acme", "a@acme.example", "--password", "short")
    assert weak.returncode == 2 and len(weak.stderr.splitlines()) == 1, weak.stderr
    assert "Traceback" not in weak.stderr
    with sqlite3.connect(copy) as conn:
        stored = conn.execute("SELECT password_hash FROM users WHERE email = 'a@acme.example'").fetchone()[0]
        actions = [row[0] for row in conn.execute("SELECT action FROM audit_logs")]
    conn.close()
    assert PasswordHasher().verify(stored, new)
    assert actions.count("set_password") == 1, actions
