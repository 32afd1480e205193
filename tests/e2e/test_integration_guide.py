"""docs/integration.md's Python examples, run as written, in order, against a real server
(SQLite and PostgreSQL): discovery, Authlib's code flow with PKCE, the API call, refresh,
revocation and the error example.

Only the guide's placeholders change: the sample issuer, client id, secret and redirect
URI become the test server's. The user's sign-in (a browser in real life) is played by
harness.sign_in_and_allow when the guide first needs `callback_url`. `*.localhost` names
resolve to loopback here as they do in browsers and curl.
"""

from __future__ import annotations

import re
import socket
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.harness import Server

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
ALICE = "alice@example.com"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def with_the_servers_values(code: str, server: Server) -> str:
    placeholders = {
        '"https://acme.example.com"': f'"{server.issuer}"',
        '"my-app"': f'"{server.client["identifier"]}"',
        '"tss_..."': f'"{server.client["secret"]}"',
        '"https://my-app.example.com/callback"': f'"{harness.REDIRECT_URI}"',
    }
    for placeholder, value in placeholders.items():
        code = code.replace(placeholder, value)
    return code


@pytest.fixture
def localhost_is_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_the_guide_has_the_examples_this_test_runs() -> None:
    blocks = python_blocks(GUIDE.read_text())
    assert len(blocks) >= 7
    joined = "\n".join(blocks)
    for step in ("openid-configuration", "fetch_token", "code_verifier", "refresh_token(", "revocation_endpoint"):
        assert step in joined, step


@pytest.mark.usefixtures("localhost_is_loopback")
def test_the_python_examples_work_as_written(server: Server) -> None:
    namespace: dict[str, Any] = {"__name__": "integration_guide"}
    ran = []
    with warnings.catch_warnings():
        # Authlib warns once at import when it runs on httpx rather than its httpx2 fork.
        warnings.simplefilter("ignore")
        import authlib.deprecate  # noqa: F401

    try:
        for block in python_blocks(GUIDE.read_text()):
            code = with_the_servers_values(block, server)
            if "callback_url" in code and "callback_url" not in namespace:
                # The user signs in and clicks Allow; the browser lands on the redirect URI.
                namespace["callback_url"] = harness.sign_in_and_allow(namespace["url"], ALICE).location
            exec(compile(code, f"{GUIDE.name} example {len(ran) + 1}", "exec"), namespace)
            ran.append(code)
    finally:
        if "client" in namespace:
            namespace["client"].close()  # the guide's application keeps its client open

    # What the examples claim to have done, checked from outside.
    assert namespace["user"]["email"] == ALICE
    assert namespace["token"]["access_token"] != namespace["me"].request.headers["authorization"].split()[1]
    assert namespace["gone"].status_code == 401
    assert namespace["challenge"] and namespace["verifier"]
