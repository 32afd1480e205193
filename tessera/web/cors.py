"""CORS for the JSON endpoints browser apps call: token, revocation, introspection,
userinfo, discovery and JWKS (INTERFACE.md section 5 allows it there, and nowhere else).

Any origin may call them: they authenticate with credentials the caller sends, never with
cookies, so no Access-Control-Allow-Credentials is given and `*` exposes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

Endpoint = Callable[[Request], Awaitable[Response]]

# DPoP (RFC 9449): a browser app sends its proof in the DPoP header and must be able to
# read the DPoP-Nonce a server asks it to use.
HEADERS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "WWW-Authenticate, DPoP-Nonce"}
# The same, ready to append to a response's raw headers: every bearer call of the API gets
# them, and MutableHeaders.update (which looks for each name first) cost ~2 us a call.
_RAW = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
_NAMES = frozenset(name for name, _ in _RAW)
_VARY = (b"vary", b"Authorization")


def allow_any_origin(endpoint: Endpoint) -> Endpoint:
    async def run(request: Request) -> Response:
        response = await endpoint(request)
        # What MutableHeaders.update does (ours replace any of the same name), on the raw
        # list: every token, introspection and revocation answer passes here.
        response.raw_headers[:] = [item for item in response.raw_headers if item[0] not in _NAMES] + _RAW
        return response

    return run


# MCP-Protocol-Version: MCP clients in browsers send it with their requests, discovery and
# metadata included (the MCP specification's "Protocol Version Header").
ALLOWED_HEADERS = "Authorization, Content-Type, DPoP, MCP-Protocol-Version"


def preflight(methods: str, allowed_headers: str = ALLOWED_HEADERS) -> Endpoint:
    async def run(request: Request) -> Response:
        return Response(
            status_code=204,
            headers={
                **HEADERS,
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": allowed_headers,
                "Access-Control-Max-Age": "600",
            },
        )

    return run


def public_document_preflight() -> Endpoint:
    """For the documents anyone may read (discovery, JWKS, resource metadata): any request
    header may come with a GET (`*`, which the Fetch standard honours for requests without
    credentials, and these take none)."""
    return preflight("GET", "*")


def allow_any_origin_with_a_bearer_token(endpoint: Endpoint) -> Endpoint:
    """The API answers browser apps of any origin that send a token in the Authorization
    header (single-page apps), as Zendesk's API does for OAuth tokens. Not a request that
    relies on the session cookie: that answer (with its authenticity_token) stays readable
    by the account's own pages only."""

    async def run(request: Request) -> Response:
        response = await endpoint(request)
        # The API's own answers set none of these, so appending adds each once.
        if any(name == b"authorization" for name, _ in request.scope["headers"]):
            response.raw_headers.extend(_RAW)
        response.raw_headers.append(_VARY)
        return response

    return run
