"""docs/integration.md's examples, run as written, in order, against a real server (SQLite
and PostgreSQL): in Python discovery, Authlib's code flow with PKCE, the API call,
refresh, revocation and the error example; in JavaScript the openid-client flow, with
Node.js and the openid-client the OIDC tests use (tests/e2e/rp).

Only the guide's placeholders change: the sample issuer, client id, secret and redirect
URI become the test server's (and the JavaScript gets the allowInsecureRequests option
the guide names for plain http, and resolves *.localhost to loopback). The user's sign-in (a browser in real life) is played by
harness.sign_in_and_allow when the guide first needs `callback_url`. `*.localhost` names
resolve to loopback here as they do in browsers and curl.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import harness
from tests.e2e.harness import Server

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
ALICE = "alice@example.com"


RP = Path(__file__).resolve().parent / "rp"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def js_blocks(text: str) -> list[str]:
    return re.findall(r"^```js\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def with_the_servers_values(code: str, server: Server) -> str:
    for quote in ('"', "'"):
        placeholders = {
            "https://acme.example.com": server.issuer,
            "my-app": server.client["identifier"],
            "tss_...": server.client["secret"],
            "https://my-app.example.com/callback": harness.REDIRECT_URI,
        }
        for placeholder, value in placeholders.items():
            code = code.replace(f"{quote}{placeholder}{quote}", f"{quote}{value}{quote}")
            code = code.replace(f"{quote}{placeholder}/", f"{quote}{value}/")
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


# The guide's own resolver block sends *.localhost to loopback; this reads the callback URL.
_JS_PRELUDE = """
import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_javascript_example_works_as_written(server: Server) -> None:
    if not (RP / "node_modules" / "openid-client").exists():
        pytest.fail("openid-client is not installed: run npm ci --prefix tests/e2e/rp")
    before, callback, resolver = (with_the_servers_values(block, server) for block in js_blocks(GUIDE.read_text()))
    insecure = "oidc.ClientSecretBasic(process.env.CLIENT_SECRET),\n);"
    assert insecure in before
    before = before.replace(
        insecure, "oidc.ClientSecretBasic(process.env.CLIENT_SECRET),\n  { execute: [oidc.allowInsecureRequests] },\n);"
    )
    imports, _, rest = before.partition("\n\n")
    script = "\n".join(
        [
            imports,
            resolver,  # as the guide says to add for the demo's *.localhost
            _JS_PRELUDE,
            rest,
            "console.log(JSON.stringify({ url: url.href }));",
            "const currentUrl = new URL((await lines.next()).value);",
            callback,
            "console.log(JSON.stringify({ me: me.status, user: (await me.json()).user.email,",
            "  refreshed: refreshed.access_token !== tokens.access_token, id_token: Boolean(tokens.id_token) }));",
            "process.exit(0);",
        ]
    )
    path = RP / f".integration-guide-{secrets.token_hex(4)}.mjs"  # beside node_modules, to import them
    path.write_text(script)
    try:
        with subprocess.Popen(
            ["node", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**harness.clean_env(None), "CLIENT_SECRET": server.client["secret"]},
        ) as node:
            assert node.stdin is not None and node.stdout is not None
            first = node.stdout.readline()
            assert first, node.communicate(timeout=30)[1]
            url = json.loads(first)["url"]
            node.stdin.write(harness.sign_in_and_allow(url, ALICE).location + "\n")
            node.stdin.flush()
            out, err = node.communicate(timeout=60)
    finally:
        path.unlink()
    assert node.returncode == 0, err
    assert json.loads(out) == {"me": 200, "user": ALICE, "refreshed": True, "id_token": True}
