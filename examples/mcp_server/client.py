"""Connect to an MCP server protected by a Tessera account, knowing only the server's URL.

    python examples/mcp_server/client.py http://127.0.0.1:8001/mcp [--tool whoami]

The MCP Python SDK's `OAuthClientProvider` does the OAuth part: it reads the server's
protected-resource metadata (RFC 9728) to find the account, the account's metadata
(RFC 8414), registers itself (RFC 7591), and asks for a token bound to the server
(RFC 8707). This script prints the sign-in URL for you to open, receives the answer on a
loopback port (RFC 8252), then lists the tools and calls one.
"""

from __future__ import annotations

import argparse
import http.server
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl
from server import LocalhostTransport


class MemoryStorage:
    """Where the SDK keeps the registration and tokens; a real agent would keep them on disk."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Callback:
    """A one-shot HTTP server on 127.0.0.1 that receives the authorization response."""

    def __init__(self, port: int) -> None:
        self.params: dict[str, list[str]] = {}
        self.received = threading.Event()
        callback = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    self.send_error(404)
                    return
                callback.params = parse_qs(parts.query)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"Done. You can close this tab and go back to the terminal.\n")
                callback.received.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def wait(self) -> AuthorizationCodeResult:
        await anyio.to_thread.run_sync(self.received.wait)
        self.server.shutdown()
        return authorization_result(self.params)


def authorization_result(params: dict[str, list[str]]) -> AuthorizationCodeResult:
    """The authorization response's query (RFC 6749 section 4.1.2, with RFC 9207's `iss`)
    as the SDK takes it; an error response, or one without a code, ends the client."""
    if "error" in params:
        raise SystemExit(f"authorization refused: {params['error'][0]} {params.get('error_description', [''])[0]}")
    if "code" not in params:
        raise SystemExit(f"the authorization response carries no code: {params}")
    return AuthorizationCodeResult(
        code=params["code"][0],
        state=params.get("state", [None])[0],
        iss=params.get("iss", [None])[0],
    )


async def run(url: str, tool: str, arguments: dict[str, Any], port: int) -> None:
    callback = Callback(port)

    async def show_authorization_url(authorization_url: str) -> None:
        print(f"Open this URL in a browser, sign in and allow:\n\n  {authorization_url}\n", flush=True)

    oauth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="Tessera example MCP client",
            redirect_uris=[AnyUrl(callback.redirect_uri)],
        ),
        storage=MemoryStorage(),
        redirect_handler=show_authorization_url,
        callback_handler=callback.wait,
    )
    async with (
        httpx2.AsyncClient(auth=oauth, transport=LocalhostTransport(), timeout=30) as http_client,
        Client(streamable_http_client(url, http_client=http_client)) as client,
    ):
        tools = await client.list_tools()
        print("tools:", ", ".join(t.name for t in tools.tools))
        result = await client.call_tool(tool, arguments)
        print(f"{tool}:", json.dumps(result.structured_content, indent=2) if result.structured_content else result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("url", help="the MCP server's URL, e.g. http://127.0.0.1:8001/mcp")
    parser.add_argument("--tool", default="whoami", help="the tool to call (default whoami)")
    parser.add_argument("--arguments", default="{}", help="the tool's arguments as JSON (default {})")
    parser.add_argument("--port", type=int, default=0, help="loopback port for the redirect (default: any free one)")
    args = parser.parse_args()
    anyio.run(run, args.url, args.tool, json.loads(args.arguments), args.port)


if __name__ == "__main__":
    main()
