"""A small MCP server behind a Tessera account, written with the official MCP Python SDK.

It speaks the streamable HTTP transport at its own URL (for example
`http://127.0.0.1:8001/mcp`) and:

- serves OAuth 2.0 Protected Resource Metadata (RFC 9728) at
  `/.well-known/oauth-protected-resource/mcp`, naming the Tessera account (its issuer) as
  the authorization server, so that an MCP client given only this server's URL finds where
  to register and sign in;
- answers every request without a valid token with `401` and a `WWW-Authenticate` header
  pointing at that metadata;
- checks each bearer token by asking the account's introspection endpoint (RFC 7662) as a
  resource-server client, and accepts it only when it is active, was issued by the
  configured account, carries the required scope and names this server's URL in its
  audience (`aud`, RFC 8707): a token meant for the account's own API, or for any other
  resource, is refused.

Tools: `whoami` (the user and app behind the token) and `roll_dice`.

Run `python examples/mcp_server/server.py --help`; see README.md beside this file.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time
from typing import Any
from urllib.parse import urlsplit

import httpx2
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

logger = logging.getLogger("tessera_mcp_example")


class LocalhostTransport(httpx2.AsyncHTTPTransport):
    """Sends requests for `*.localhost` names to the loopback address, keeping the Host
    header (which selects the Tessera account), as browsers do (RFC 6761 section 6.3).
    Python's resolver does not resolve subdomains of `localhost`; this only matters when
    Tessera runs on your machine with its default `localhost` base domain."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        if host.endswith(".localhost"):
            request = httpx2.Request(
                request.method,
                request.url.copy_with(host="127.0.0.1"),
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        return await super().handle_async_request(request)


def audience(claims: dict[str, Any]) -> list[str]:
    """The `aud` of an introspection answer as a list (RFC 7662 section 2.2: a string or an array)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


class TesseraIntrospectionVerifier(TokenVerifier):
    """Verifies bearer tokens with the Tessera account's introspection endpoint (RFC 7662).

    The endpoint is discovered once from the account's metadata (RFC 8414). The client is a
    resource server made with `tessera clients create ... --introspection`: it may introspect
    any token of its account, and authenticates with HTTP Basic (client_secret_basic).
    """

    def __init__(self, issuer: str, resource: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer.rstrip("/")
        self.resource = resource
        self.client_id = client_id
        self.client_secret = client_secret
        self._introspection_endpoint: str | None = None
        self._http = httpx2.AsyncClient(transport=LocalhostTransport(), timeout=10.0, follow_redirects=False)

    async def _endpoint(self) -> str:
        if self._introspection_endpoint is None:
            answer = await self._http.get(f"{self.issuer}/.well-known/oauth-authorization-server")
            answer.raise_for_status()
            metadata = answer.json()
            if metadata.get("issuer") != self.issuer:
                raise RuntimeError(f"{self.issuer} names another issuer in its metadata: {metadata.get('issuer')!r}")
            self._introspection_endpoint = str(metadata["introspection_endpoint"])
        return self._introspection_endpoint

    async def introspect(self, token: str) -> dict[str, Any]:
        """The account's answer about `token`: `{"active": false}` when it is not valid."""
        answer = await self._http.post(
            await self._endpoint(),
            data={"token": token, "token_type_hint": "access_token"},
            auth=(self.client_id, self.client_secret),
        )
        if answer.status_code != 200:
            logger.warning("introspection answered %s: %s", answer.status_code, answer.text[:300])
            return {"active": False}
        claims = answer.json()
        return claims if isinstance(claims, dict) else {"active": False}

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = await self.introspect(token)
        except (httpx2.HTTPError, RuntimeError, KeyError, ValueError) as error:
            logger.warning("could not introspect a token: %s", error)
            return None
        if claims.get("active") is not True:
            return None
        if claims.get("iss") not in (None, self.issuer):
            logger.info("refused a token from another issuer: %r", claims.get("iss"))
            return None
        if claims.get("token_type") not in (None, "bearer", "access_token", "Bearer"):
            logger.info("refused a %r presented as an access token", claims.get("token_type"))
            return None
        expires_at = claims.get("exp")
        if isinstance(expires_at, int) and expires_at < time.time():
            return None
        if self.resource not in audience(claims):
            # RFC 8707: the token was issued for another resource (perhaps the account's own
            # API); using it here would let any API the user authorized act on this server.
            logger.info("refused a token for audience %r; this server is %s", claims.get("aud"), self.resource)
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=expires_at if isinstance(expires_at, int) else None,
            resource=self.resource,
            subject=str(claims["sub"]) if "sub" in claims else None,
            claims=claims,
        )


def create_server(issuer: str, url: str, verifier: TokenVerifier, scopes: list[str]) -> MCPServer:
    """The MCP server: its tools, and Tessera as its authorization server."""
    server = MCPServer(
        name="Tessera example MCP server",
        instructions="Tools that show who is calling; every call needs a token from the Tessera account.",
        token_verifier=verifier,
        auth=AuthSettings(
            # Strings, not AnyHttpUrl objects: AuthSettings keeps a path-less issuer without
            # a trailing slash, and RFC 8414 compares issuers as exact strings.
            issuer_url=issuer,  # type: ignore[arg-type]
            resource_server_url=url,  # type: ignore[arg-type]
            required_scopes=scopes,
            # The verifier above already refuses tokens whose audience is not this server;
            # the SDK checks it again against resource_server_url.
            validate_token_resource=True,
        ),
    )

    @server.tool()
    def whoami() -> dict[str, Any]:
        """The Tessera user and app behind the token this call was made with."""
        token = get_access_token()
        if token is None:  # never: the transport refuses calls without a valid token
            raise RuntimeError("no token")
        claims = token.claims or {}
        return {
            "user_id": token.subject,
            "email": claims.get("username"),
            "client_id": token.client_id,
            "scopes": token.scopes,
            "audience": audience(claims),
            "issuer": claims.get("iss"),
        }

    @server.tool()
    def roll_dice(sides: int = 6) -> int:
        """Roll a die with the given number of sides (2 to 1000)."""
        if not 2 <= sides <= 1000:
            raise ValueError("sides must be between 2 and 1000")
        return random.randint(1, sides)

    return server


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="An MCP server whose tokens come from a Tessera account.")
    parser.add_argument(
        "--issuer",
        default=env("MCP_SERVER_ISSUER"),
        help="the Tessera account's issuer, e.g. https://acme.example.com (env MCP_SERVER_ISSUER)",
    )
    parser.add_argument(
        "--url",
        default=env("MCP_SERVER_URL", "http://127.0.0.1:8001/mcp"),
        help="this server's public URL, its MCP endpoint, registered as a resource of the account "
        "(env MCP_SERVER_URL; default http://127.0.0.1:8001/mcp)",
    )
    parser.add_argument(
        "--client-id",
        default=env("MCP_SERVER_CLIENT_ID"),
        help="the identifier of the resource-server client that introspects tokens (env MCP_SERVER_CLIENT_ID)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        default=None,
        help="a scope every token must carry; repeat for several (env MCP_SERVER_SCOPES, space-separated; default read)",
    )
    parser.add_argument("--host", default=env("MCP_SERVER_HOST", "127.0.0.1"), help="address to listen on")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default: the URL's port)")
    args = parser.parse_args(argv)
    secret = env("MCP_SERVER_CLIENT_SECRET")
    missing = [
        name
        for name, value in (
            ("--issuer", args.issuer),
            ("--client-id", args.client_id),
            ("MCP_SERVER_CLIENT_SECRET", secret),
        )
        if not value
    ]
    if missing:
        parser.error("missing " + ", ".join(missing) + " (the client secret is read from the environment only)")
    assert secret is not None
    scopes = args.scope or env("MCP_SERVER_SCOPES", "read").split()
    url = args.url.rstrip("/")
    public = urlsplit(url)
    port = args.port or public.port or (443 if public.scheme == "https" else 80)
    issuer = args.issuer.rstrip("/")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    verifier = TesseraIntrospectionVerifier(issuer, url, args.client_id, secret)
    server = create_server(issuer, url, verifier, scopes)
    app = server.streamable_http_app(
        streamable_http_path=public.path or "/",
        host=args.host,
        # DNS-rebinding protection: answer only requests addressed to the public URL's host.
        transport_security=TransportSecuritySettings(
            allowed_hosts=[public.netloc],
            allowed_origins=[f"{public.scheme}://{public.netloc}"],
        ),
    )
    logger.info("MCP server at %s, tokens from %s, scopes %s", url, issuer, " ".join(scopes))
    uvicorn.run(app, host=args.host, port=port, log_level="info")


if __name__ == "__main__":
    main()
