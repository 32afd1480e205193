"""`tessera clients create|update --require-dpop/--no-require-dpop` (INTERFACE.md section 10,
RFC 9449 section 5.2's dpop_bound_access_tokens in the client JSON)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import ADMIN, PASSWORD, client_args, only_json, run, succeeded


def test_require_dpop_set_and_cleared(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    succeeded(run(url, "accounts", "create", "acme"))
    admin = ("users", "create", "--account", "acme", "--email", ADMIN, "--password", PASSWORD, "--role", "admin")
    succeeded(run(url, *admin))
    created = only_json(
        run(url, *client_args("bound", "--redirect-uri", "https://x.example/cb", "--require-dpop", "--json"))
    )
    assert created["client"]["dpop_bound_access_tokens"] is True
    plain = only_json(run(url, *client_args("plain", "--redirect-uri", "https://x.example/cb", "--json")))
    assert plain["client"]["dpop_bound_access_tokens"] is False
    cleared = only_json(run(url, "clients", "update", "bound", "--account", "acme", "--no-require-dpop", "--json"))
    assert cleared["client"]["dpop_bound_access_tokens"] is False
