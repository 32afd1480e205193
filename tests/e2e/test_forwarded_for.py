"""The client address behind a reverse proxy (docs/production.md, "TLS behind a reverse
proxy"): `X-Forwarded-For` is believed only from a proxy the server trusts, by default
one on the same machine, otherwise the addresses in FORWARDED_ALLOW_IPS. The address is
what the throttles count and what the audit log records; a wrong password at the sign-in
page records one audit entry with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
import sqlalchemy as sa

from tests.e2e import harness
from tests.support import forms

FORWARDED = "203.0.113.7"  # RFC 5737 documentation address


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, harness.Seeded, Path]]:
    directory = tmp_path_factory.mktemp("forwarded")
    with harness.fresh_database("sqlite", directory) as database_url:
        yield database_url, harness.seed(database_url), directory


def _failed_sign_in_address(database_url: str, subdomain: str, port: int) -> str:
    login_url = f"http://{subdomain}.localhost:{port}/access/login"
    with harness.http_client() as browser:
        page = browser.get(login_url)
        assert page.status_code == 200, page.text
        login = next(f for f in forms(page.text) if "password" in f.fields)
        answer = browser.post(
            urljoin(login_url, login.action),
            data=dict(login.fields, email="alice@example.com", password="not the password"),
            headers={"X-Forwarded-For": FORWARDED},
        )
        assert answer.status_code == 401, answer.text
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT ip_address FROM audit_logs WHERE action = 'sign_in_failed' ORDER BY id DESC LIMIT 1")
            ).all()
    finally:
        engine.dispose()
    assert rows, "the failed sign-in was recorded"
    return str(rows[0][0])


def test_a_proxy_on_the_same_machine_is_trusted_by_default(database: tuple[str, harness.Seeded, Path]) -> None:
    database_url, seeded, directory = database
    with harness.running_server(database_url, directory / "default.log") as port:
        assert _failed_sign_in_address(database_url, seeded.subdomain, port) == FORWARDED


def test_a_proxy_not_in_forwarded_allow_ips_is_not_believed(database: tuple[str, harness.Seeded, Path]) -> None:
    database_url, seeded, directory = database
    env = {"FORWARDED_ALLOW_IPS": "192.0.2.10"}  # the proxy is elsewhere: 127.0.0.1 is not it
    with harness.running_server(database_url, directory / "elsewhere.log", env=env) as port:
        assert _failed_sign_in_address(database_url, seeded.subdomain, port) == "127.0.0.1"
