"""JSON responses: OAuth errors (RFC 6749 section 5.2) and API errors (RFC 6750 section 3)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from tessera import metrics
from tessera.protocol.dpop import DpopRefused, UseDpopNonce
from tessera.protocol.dpop import challenge as dpop_challenge
from tessera.protocol.errors import InsufficientScope, OAuthError, TooManyRequests

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

log = logging.getLogger("tessera.oauth")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        # Starlette's general version checks for overrides these answers never make; this
        # is on every token, introspection and API answer.
        raw = [(b"content-length", str(len(self.body)).encode()), (b"content-type", b"application/json")]
        if headers:
            raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        self.raw_headers = raw


def json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSON(content, status_code=status, headers=headers)


def problem(status: int, error: str, description: str) -> Response:
    """An API refusal that is not an OAuth error: `{"error": ..., "description": ...}`."""
    return json({"error": error, "description": description}, status)


def log_debug(error: OAuthError) -> None:
    """The hint/debug split (as fosite has it): the description tells the client what to
    fix; `debug` tells the operator what the client may not learn, such as which stored
    value mismatched. It holds ids and times, never a secret, token, code or password."""
    if error.debug is not None:
        log.info("refused with %s: %s", error.error, error.debug)


def oauth_error(error: OAuthError, *, basic_challenge: bool = False) -> Response:
    """RFC 6749 section 5.2: JSON body; 401 with a Basic challenge for Basic callers."""
    log_debug(error)
    metrics.oauth_error(error.error)
    headers = dict(NO_STORE)
    if basic_challenge:
        headers["WWW-Authenticate"] = 'Basic realm="Tessera", charset="UTF-8"'
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, UseDpopNonce):
        headers["DPoP-Nonce"] = error.nonce  # RFC 9449 section 8
    status = error.status_code if error.status_code in (400, 401, 403, 429, 500, 503) else 400
    return json(error.as_dict(), status, headers)


def _quoted(value: str) -> str:
    return value.replace("\\", "/").replace('"', "'")


def bearer_challenge(
    realm: str, error: OAuthError | None = None, resource_metadata: str | None = None, scope: str | None = None
) -> str:
    """RFC 6750 section 3: no error code when the request carried no credentials, and the
    `scope` the resource needs when given (the MCP authorization specification asks for it
    in the 401, so that a client asks for that scope); RFC 9728 section 5.1:
    `resource_metadata`, the URL of the resource's metadata, when given."""
    parts = [f'realm="{_quoted(realm)}"']
    if scope is not None and not isinstance(error, InsufficientScope):
        parts.append(f'scope="{scope}"')
    if error is not None:
        metrics.oauth_error(error.error)
        parts.append(f'error="{error.error}"')
        parts.append(f'error_description="{_quoted(error.description)}"')
        if isinstance(error, InsufficientScope):
            parts.append(f'scope="{error.scope}"')
    if resource_metadata is not None:
        parts.append(f'resource_metadata="{_quoted(resource_metadata)}"')
    return "Bearer " + ", ".join(parts)


def api_unauthenticated(realm: str, resource_metadata: str | None = None, scope: str | None = None) -> Response:
    return json(
        {
            "error": "Couldn't authenticate you",
            "description": "This request needs credentials: send 'Authorization: Bearer TOKEN' with an OAuth access token, or sign in",
        },
        401,
        {"WWW-Authenticate": bearer_challenge(realm, None, resource_metadata, scope)},
    )


def api_error(
    realm: str, error: OAuthError, resource_metadata: str | None = None, body_error: str | None = None
) -> Response:
    """invalid_token (401), insufficient_scope (403), invalid_request (400) at the API.
    `body_error`: the body's error code where it differs from the challenge's (the
    administration endpoints' Forbidden, INTERFACE.md section 6)."""
    log_debug(error)
    return json(
        {"error": body_error or error.error, "description": error.description},
        error.status_code,
        {"WWW-Authenticate": bearer_challenge(realm, error, resource_metadata)},
    )


def api_dpop_error(
    refused: DpopRefused, resource_metadata: str | None = None, body_error: str | None = None
) -> Response:
    """RFC 9449 section 7.1: a refusal of a DPoP-scheme request (or of a DPoP-bound token
    sent as Bearer, section 7.2) carries a DPoP challenge; use_dpop_nonce the nonce. RFC
    9728 section 5.1: `resource_metadata` in it too, as in the Bearer challenge."""
    error = refused.error
    log_debug(error)
    metrics.oauth_error(error.error)
    challenge = dpop_challenge(error)
    if resource_metadata is not None:
        challenge += f', resource_metadata="{_quoted(resource_metadata)}"'
    headers = {"WWW-Authenticate": challenge}
    if refused.nonce is not None:
        headers["DPoP-Nonce"] = refused.nonce
    return json({"error": body_error or error.error, "description": error.description}, refused.status, headers)
