"""Shared by the CLI tests: a database seeded through the CLI itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import harness


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An account with an admin and a client of JWT access tokens, on SQLite."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    url = f"sqlite:///{path}"
    for args in (
        ("accounts", "create", "acme"),
        (
            "users",
            "create",
            "--account",
            "acme",
            "--email",
            "a@acme.example",
            "--password",
            harness.PASSWORD,
            "--role",
            "admin",
        ),
        (
            "clients",
            "create",
            "--account",
            "acme",
            "--name",
            "J",
            "--identifier",
            "jw",
            "--grant-type",
            "client_credentials",
            "--access-token-format",
            "jwt",
        ),
    ):
        done = harness.tessera(url, *args)
        assert done.returncode == 0, done.stderr
    return path
