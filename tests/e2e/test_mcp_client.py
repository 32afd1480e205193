"""A real MCP client, end to end (INTERFACE.md section 8; RFC 9728, RFC 8414, RFC 7591,
RFC 8707, RFC 7662, RFC 9207), on SQLite and PostgreSQL.

The official MCP Python SDK (`mcp` on PyPI) is the client: its `OAuthClientProvider` is
given nothing but the URL of the example MCP server (examples/mcp_server/server.py, written
with the same SDK). It must find the Tessera account through the server's protected-resource
metadata, read the account's metadata, register itself under the account's `open`
registration policy, send the user through the real login and consent pages (driven here
over HTTP, as tests/e2e/harness.py does for other clients), redeem the code with PKCE and
the `resource` indicator, and call a tool. The token it ends up with is bound to the MCP
server (introspection `aud`), and tokens meant for the account's own API are refused by the
MCP server, as the server's tokens are refused by the account's API.
"""

from __future__ import annotations

import importlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl

from tests.e2e import harness
from tests.e2e.harness import Server

pytestmark = pytest.mark.e2e

ALICE = "alice@example.com"
EXAMPLE = harness.ROOT / "examples" / "mcp_server" / "server.py"
RS_IDENTIFIER = "example-mcp-server"


def _example(name: str) -> ModuleType:
    """A module of the example, imported as its scripts import each other: by bare name,
    from their own folder (appended to the path, so that it shadows nothing)."""
    if str(EXAMPLE.parent) not in sys.path:
        sys.path.append(str(EXAMPLE.parent))
    return importlib.import_module(name)


# The example client's own pieces: its token storage and its reading of the redirect.
example_client = _example("client")
example_server = _example("server")


@dataclass(frozen=True)
class McpServer:
    url: str  # the MCP endpoint, which is also the resource's URI
    rs_identifier: str
    rs_secret: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _cli(server: Server, *args: str) -> dict[str, Any]:
    return harness.tessera_json(server.database_url, *args)


@pytest.fixture(scope="module")
def mcp_server(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServer]:
    """The account set up for agents, with the admin's commands only (docs/agents.md): open
    registration, the MCP server registered as a resource, a resource-server client for
    introspection; then the example MCP server in front of it, on a free port."""
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    done = harness.tessera(server.database_url, "accounts", "update", server.subdomain, "--registration", "open")
    assert done.returncode == 0, done.stderr
    _cli(
        server,
        *("resources", "create", "--account", server.subdomain, "--uri", url),
        *("--name", "Example MCP server", "--scope", "read"),
    )
    resource_server = _cli(
        server,
        *("clients", "create", "--account", server.subdomain, "--name", "Example MCP server"),
        *("--identifier", RS_IDENTIFIER, "--grant-type", "client_credentials", "--introspection"),
    )["client"]
    log_path = tmp_path_factory.mktemp("mcp-server") / "mcp-server.log"
    env = {
        **harness.clean_env(),
        "MCP_SERVER_ISSUER": server.issuer,
        "MCP_SERVER_URL": url,
        "MCP_SERVER_CLIENT_ID": RS_IDENTIFIER,
        "MCP_SERVER_CLIENT_SECRET": resource_server["secret"],
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLE)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=harness.ROOT,
        )
        try:
            _wait_for_metadata(process, f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", log_path)
            yield McpServer(url, RS_IDENTIFIER, resource_server["secret"], log_path)
        finally:
            harness.stop(process)


def _wait_for_metadata(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the example MCP server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if probe.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the example MCP server did not answer within 30 s:\n{log_path.read_text()}")


def _introspect(server: Server, mcp: McpServer, token: str) -> dict[str, Any]:
    """RFC 7662 as the MCP server's resource-server client asks it."""
    with harness.http_client() as http:
        answer = http.post(
            f"{server.issuer}/oauth/introspect",
            data={"token": token},
            auth=(mcp.rs_identifier, mcp.rs_secret),
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert isinstance(body, dict)
    return body


@dataclass
class Run:
    """What the SDK did, as seen from the test."""

    authorization_urls: list[str]
    consent_pages: list[str]
    storage: Any  # the example client's MemoryStorage
    tool_names: list[str]
    whoami: dict[str, Any]


async def _connect_and_call(mcp_url: str) -> Run:
    """The MCP client as an agent runs it, knowing only `mcp_url`; the user's part (the
    browser: login and consent) is played by harness.sign_in_and_allow."""
    storage = example_client.MemoryStorage()
    authorization_urls: list[str] = []
    consent_pages: list[str] = []
    redirected_to: list[str] = []

    async def redirect_handler(authorization_url: str) -> None:
        authorization_urls.append(authorization_url)
        done = await anyio.to_thread.run_sync(harness.sign_in_and_allow, authorization_url, ALICE)
        assert done.consent_shown, "a self-registered app is shown to the user before it gets a token"
        consent_pages.append(done.consent_page)
        redirected_to.append(done.location)

    async def callback_handler() -> AuthorizationCodeResult:
        location = redirected_to[-1]
        assert location.startswith("http://127.0.0.1:"), location
        result: AuthorizationCodeResult = example_client.authorization_result(parse_qs(urlsplit(location).query))
        return result

    callback_port = harness.free_port()  # nothing listens there: the test reads the redirect itself
    oauth = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Tessera MCP e2e agent",
            redirect_uris=[AnyUrl(f"http://127.0.0.1:{callback_port}/callback")],
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    async with (
        httpx2.AsyncClient(auth=oauth, transport=harness.AsyncHttpx2LoopbackTransport(), timeout=30) as http_client,
        Client(streamable_http_client(mcp_url, http_client=http_client)) as client,
    ):
        tools = await client.list_tools()
        result = await client.call_tool("whoami", {})
    assert not result.is_error, result
    assert isinstance(result.structured_content, dict), result
    return Run(
        authorization_urls=authorization_urls,
        consent_pages=consent_pages,
        storage=storage,
        tool_names=[tool.name for tool in tools.tools],
        whoami=result.structured_content,
    )


def test_the_sdk_client_finds_registers_signs_in_and_calls_a_tool(server: Server, mcp_server: McpServer) -> None:
    """Given only the MCP server's URL: RFC 9728 discovery of the account, RFC 8414 metadata,
    RFC 7591 registration, authorization code + PKCE with `resource` (RFC 8707), RFC 9207
    `iss`, then a tool call whose answer is the signed-in user."""
    try:
        run = anyio.run(_connect_and_call, mcp_server.url)
    except BaseException:
        print("--- example MCP server log ---\n" + mcp_server.log())
        print("--- tessera server log (tail) ---\n" + server.log()[-6000:])
        raise

    # The SDK registered itself with the account (RFC 7591) and was sent to its authorization
    # endpoint, asking for the MCP server as the resource (RFC 8707 section 2.1).
    assert run.storage.client_info is not None
    client_id = run.storage.client_info.client_id
    assert len(run.authorization_urls) == 1
    sent = parse_qs(urlsplit(run.authorization_urls[0]).query)
    assert run.authorization_urls[0].startswith(f"{server.issuer}/oauth/authorizations/new?")
    assert sent["client_id"] == [client_id]
    assert sent["resource"] == [mcp_server.url]
    assert sent["code_challenge_method"] == ["S256"]
    # INTERFACE.md section 8: the consent page says the app registered itself.
    assert len(run.consent_pages) == 1
    assert "This app registered itself; its name is not verified." in run.consent_pages[0]
    assert "Tessera MCP e2e agent" in run.consent_pages[0]
    # The SDK bound the registration to the account it found (the issuer of its metadata),
    # and the account records that the client registered itself.
    assert run.storage.client_info.issuer == server.issuer
    registered = _cli(server, "clients", "show", client_id, "--account", server.subdomain)["client"]
    assert registered["registration"] == "dynamic"
    assert registered["name"] == "Tessera MCP e2e agent"

    # The tool answered for Alice, through the app that registered itself.
    alice = server.user(ALICE)
    assert {"whoami", "roll_dice"} <= set(run.tool_names)
    assert run.whoami["user_id"] == str(alice["id"])
    assert run.whoami["email"] == ALICE
    assert run.whoami["client_id"] == client_id
    assert run.whoami["issuer"] == server.issuer
    assert mcp_server.url in run.whoami["audience"]

    # The token the client used is bound to the MCP server (RFC 8707, RFC 7662 section 2.2).
    assert run.storage.tokens is not None
    access_token = run.storage.tokens.access_token
    claims = _introspect(server, mcp_server, access_token)
    assert claims["active"] is True
    assert claims["client_id"] == client_id
    assert claims["sub"] == str(alice["id"])
    assert mcp_server.url in example_server.audience(claims)
    assert f"{server.issuer}/api/v2" not in example_server.audience(claims)

    # ...so the account's own API refuses it (INTERFACE.md section 8).
    with harness.http_client() as http:
        me = http.get(f"{server.issuer}/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})
    assert me.status_code == 401, me.text
    assert 'error="invalid_token"' in me.headers["www-authenticate"]


def test_a_token_for_the_account_api_is_refused_by_the_mcp_server(server: Server, mcp_server: McpServer) -> None:
    """RFC 8707 / RFC 9068 section 4: an active token of the same account whose audience is the
    account's API is not a token for the MCP server: 401 with the resource metadata (RFC 9728
    section 5.1), never a tool call."""
    with harness.http_client() as http:
        issued = http.post(
            f"{server.issuer}/oauth/tokens",
            data={"grant_type": "client_credentials", "scope": "read"},
            auth=(server.client["identifier"], server.client["secret"]),
        )
        assert issued.status_code == 200, issued.text
        api_token = issued.json()["access_token"]
        claims = _introspect(server, mcp_server, api_token)
        assert claims["active"] is True
        assert example_server.audience(claims) == [f"{server.issuer}/api/v2"]
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "e2e", "version": "1"},
            },
        }
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        refused = http.post(
            mcp_server.url, json=initialize, headers={**headers, "Authorization": f"Bearer {api_token}"}
        )
        anonymous = http.post(mcp_server.url, json=initialize, headers=headers)
    assert refused.status_code == 401, refused.text
    challenge = refused.headers["www-authenticate"]
    assert 'error="invalid_token"' in challenge
    metadata_url = f"http://127.0.0.1:{urlsplit(mcp_server.url).port}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata_url}"' in challenge
    assert anonymous.status_code == 401
    assert f'resource_metadata="{metadata_url}"' in anonymous.headers["www-authenticate"]


def test_the_protected_resource_metadata_names_the_account(server: Server, mcp_server: McpServer) -> None:
    """RFC 9728 section 3: the MCP server's metadata names it as the resource and the
    account (its issuer, exactly) as the authorization server."""
    port = urlsplit(mcp_server.url).port
    with httpx.Client(timeout=10) as http:
        metadata = http.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == mcp_server.url
    assert metadata["authorization_servers"] == [server.issuer]
    assert metadata["scopes_supported"] == ["read"]


def _sign_in_url(process: subprocess.Popen[str], prefix: str, seen: list[str]) -> str:
    """The first line of the process's output that starts with `prefix`, within 60 s (a
    reader thread, so that a client that hangs fails the test instead of blocking it)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            if line.strip().startswith(prefix):
                return
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if line.strip().startswith(prefix):
            return line.strip()
    raise AssertionError("the client printed no sign-in URL:\n" + "".join(seen))


def test_the_example_client_script(server: Server, mcp_server: McpServer) -> None:
    """examples/mcp_server/client.py, as docs/agents.md tells a user to run it: it prints the
    sign-in URL, receives the redirect on its loopback port and prints the tool's answer."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE.with_name("client.py")), mcp_server.url],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=harness.clean_env(),
        cwd=harness.ROOT,
    )
    seen: list[str] = []
    try:
        url = _sign_in_url(process, f"{server.issuer}/oauth/authorizations/new?", seen)
        done = harness.sign_in_and_allow(url, ALICE)
        assert done.location.startswith("http://127.0.0.1:"), done.location
        with httpx.Client(timeout=10) as browser:
            landed = browser.get(done.location)
        assert landed.status_code == 200, landed.text
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            harness.stop(process)
    output = "".join(seen) + rest
    assert process.returncode == 0, output
    assert "tools: whoami, roll_dice" in output
    assert f'"email": "{ALICE}"' in output
    assert f'"{mcp_server.url}"' in output  # the audience


def test_the_example_refuses_to_start_without_its_settings() -> None:
    """The example says what is missing instead of starting unprotected."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_SERVER_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--url", "http://127.0.0.1:1/mcp"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "--issuer" in done.stderr and "MCP_SERVER_CLIENT_SECRET" in done.stderr
