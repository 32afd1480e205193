"""Bearer tokens at the resource: RFC 6750 sections 2 and 3.

Tessera accepts the token only in the Authorization header (section 2.1) on the API. The
query parameter form (section 2.3) puts the token into logs and Referer headers, and the
form-body form (section 2.2) is allowed only where OIDC Core section 5.3.1 asks for it, so
both are answered with invalid_request saying to use the header.
"""

from __future__ import annotations

import re

from tessera.model import AccessToken, User
from tessera.protocol import resource_indicators, scopes
from tessera.protocol.errors import InsufficientScope, InvalidRequest, InvalidToken

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def from_header(authorization: str | None) -> str | None:
    """The bearer token in an Authorization header, None when there is no header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidToken(
            f"the Authorization header uses the {scheme[:20]!r} scheme; send 'Authorization: Bearer TOKEN'"
        )
    token = token.strip()
    if not token or not _B64TOKEN.match(token):
        raise InvalidToken("the bearer token is empty or malformed; send 'Authorization: Bearer TOKEN'")
    return token


def refuse_token_outside_header(where: str) -> InvalidRequest:
    return InvalidRequest(
        f"the access token was sent in the {where}; send it in the Authorization header as "
        "'Authorization: Bearer TOKEN' (tokens in URLs and bodies leak into logs)"
    )


def verify(token: AccessToken | None, account_id: int, now: float) -> AccessToken:
    """RFC 6750 section 3.1 invalid_token, with the reason in the description."""
    if token is None:
        raise InvalidToken("the access token is not valid: it was never issued, or it was mistyped or cut short")
    if token.account_id != account_id:
        raise InvalidToken(
            "the access token belongs to another account; call that account's API",
            debug=f"access token id {token.id} belongs to account id {token.account_id}, presented to account id {account_id}",
        )
    if token.revoked_at is not None:
        raise InvalidToken("the access token was revoked; obtain a new one")
    if token.expires_at is not None and now >= token.expires_at:
        raise InvalidToken(
            f"the access token expired {int(now - token.expires_at)} seconds ago; "
            "use the refresh token or authorize again"
        )
    return token


def require_audience(token: AccessToken, issuer: str) -> None:
    """RFC 8707 section 2 / RFC 9068 section 4: a token for other resources is not for this
    API (invalid_token, naming the audience it has). The empty audience is this API's."""
    if not token.audience:
        return
    api = resource_indicators.account_api(issuer)
    if api not in token.audience:
        raise InvalidToken(
            f"the access token is for {' '.join(token.audience)[:300]}, not for this API ({api}); "
            f"request a token with resource={api}, or without a resource parameter"
        )


def refuse_suspended(user: User) -> None:
    """INTERFACE.md section 6, "Users": a suspended user's tokens "stop working at once".
    Suspending revokes them; this refuses any the suspension missed."""
    if user.is_suspended:
        raise InvalidToken("the user this token acts for is suspended; an admin of the account can restore them")


def require_scope(granted: tuple[str, ...], needed: str) -> None:
    """RFC 6750 section 3.1 insufficient_scope, naming the scope that would do."""
    if scopes.satisfies(granted, needed):
        return
    resource, _, access = needed.partition(":")
    broader = [access] if access else []
    if resource in scopes.READ_WRITE_RESOURCES:
        broader.append(resource)  # a bare resource scope means read and write
    broad = f" (or {', or '.join(broader)})" if broader else ""
    raise InsufficientScope(
        f"this request needs the scope {needed}{broad}; the token has: {' '.join(granted) or 'none'}",
        scope=needed,
    )
