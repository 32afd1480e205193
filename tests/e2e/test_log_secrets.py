"""No secret in the server's log at DEBUG (INTERFACE.md section 5; docs/reliability.md):
`tessera serve --log-level debug` (TESSERA_LOG_LEVEL), and uvicorn run directly with its
own access log on at debug, both over requests that carry a refused `?access_token=`, a
logout `id_token_hint`, and `code`, `client_secret`, `refresh_token`, `token` query values.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import harness

SECRETS = {
    "access_token": "tsa_E2ESECRETaccess",
    "id_token_hint": "eyJE2ESECRET.id.hint",
    "code": "tsc_E2ESECRETcode",
    "client_secret": "E2ESECRETclient",
    "refresh_token": "tsr_E2ESECRETrefresh",
    "token": "tsa_E2ESECRETtoken",
}


def send_secrets(origin: str) -> None:
    with harness.http_client() as http:
        assert http.get(f"{origin}/api/v2/users/me", params={"access_token": SECRETS["access_token"]}).status_code < 500
        http.get(f"{origin}/access/logout", params={"id_token_hint": SECRETS["id_token_hint"]})
        http.get(f"{origin}/oauth/authorizations/new", params={k: SECRETS[k] for k in ("code", "client_secret")})
        http.post(f"{origin}/oauth/tokens", params={"refresh_token": SECRETS["refresh_token"]}, data={"token": "x"})
        http.post(f"{origin}/oauth/revoke", params={"token": SECRETS["token"]}, data={"token": "y"})


def assert_no_secret(log: str) -> None:
    leaked = [name for name, value in SECRETS.items() if value in log]
    assert not leaked, f"{leaked} leaked into the log:\n{log}"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    directory = tmp_path_factory.mktemp("log-secrets")
    with harness.fresh_database("sqlite", directory) as url:
        yield url, harness.seed(url, user_emails=()).subdomain


def test_tessera_serve_at_debug_logs_queries_with_secrets_redacted(
    database_url: tuple[str, str], tmp_path: Path
) -> None:
    url, subdomain = database_url
    log_path = tmp_path / "serve.log"
    with harness.running_server(url, log_path, env={"TESSERA_LOG_LEVEL": "debug"}) as port:
        send_secrets(f"http://{subdomain}.localhost:{port}")
        time.sleep(0.2)
    log = log_path.read_text()
    assert "/api/v2/users/me?access_token=[redacted]" in log, log  # DEBUG writes the query, redacted
    assert "id_token_hint=[redacted]" in log
    assert_no_secret(log)


def test_uvicorn_run_directly_at_debug_with_its_access_log_redacts_secrets(
    database_url: tuple[str, str], tmp_path: Path
) -> None:
    """The issue's case: DEBUG forced on with uvicorn's own logging, its access log on."""
    url, subdomain = database_url
    port = harness.free_port()
    env = {**harness.clean_env(url), "TESSERA_DATABASE_URL": url}
    log_path = tmp_path / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "tessera.asgi:app", "--factory", "--port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [*command, "--log-level", "debug", "--access-log"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        try:
            _wait_for(port, process, log_path)
            send_secrets(f"http://{subdomain}.localhost:{port}")
            time.sleep(0.2)
        finally:
            harness.stop(process)
    log = log_path.read_text()
    assert '"GET /api/v2/users/me?access_token=[redacted] HTTP/1.1" 400' in log, log  # uvicorn's line
    assert_no_secret(log)


def _wait_for(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"uvicorn did not answer within 30 s:\n{log_path.read_text()}")
