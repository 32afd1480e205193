"""OAuth 2.0 errors: RFC 6749 sections 4.1.2.1, 5.2; RFC 6750 section 3.1; OIDC Core 3.1.2.6.

One class per error code. The description is public and says what to fix; `debug` is for
the operator only (web/responses.log_debug writes it to the log at INFO): what the client
may not learn, such as which stored value mismatched. It holds ids and times, never a
secret, token, code or password. Whether an error may be redirected to the client is not decided here: the
authorization endpoint redirects any OAuthError once the redirect URI is validated, and
renders a page otherwise (see protocol/authorization.py).
"""

from __future__ import annotations

import re
from typing import ClassVar

# RFC 6749 section 5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E,
# that is printable ASCII without '"' and '\'.
_FORBIDDEN = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


MAX_DESCRIPTION = 600


def safe_description(text: str) -> str:
    """Fold a description into the characters RFC 6749 section 5.2 allows."""
    text = text.replace('"', "'").replace("\\", "/")
    text = _FORBIDDEN.sub("?", text)
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 3] + "..."


def echo(value: str, limit: int = 60) -> str:
    """A caller's value quoted inside a description, cut short so it cannot flood it."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


class OAuthError(Exception):
    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 400

    def __init__(self, description: str, *, debug: str | None = None) -> None:
        super().__init__(description)
        self.description = safe_description(description)
        self.debug = debug

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status_code = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class AccessDenied(OAuthError):
    error = "access_denied"
    status_code = 403


class ServerError(OAuthError):
    error = "server_error"
    status_code = 500


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status_code = 503


class TooManyRequests(OAuthError):
    """INTERFACE.md section 9: a throttled attempt, answered 429 with Retry-After."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class InvalidRedirectUri(OAuthError):
    """RFC 7591 section 3.2.2: "The value of one or more redirection URIs is invalid"."""

    error = "invalid_redirect_uri"


class InvalidClientMetadata(OAuthError):
    """RFC 7591 section 3.2.2: "The value of one of the client metadata fields is invalid"."""

    error = "invalid_client_metadata"


class LoginRequired(OAuthError):
    """OIDC Core 3.1.2.6: prompt=none and nobody is signed in."""

    error = "login_required"


class ConsentRequired(OAuthError):
    """OIDC Core 3.1.2.6: prompt=none and the user has not granted these scopes."""

    error = "consent_required"


class InteractionRequired(OAuthError):
    error = "interaction_required"


class InvalidToken(OAuthError):
    """RFC 6750 section 3.1: the access token is expired, revoked, malformed or unknown."""

    error = "invalid_token"
    status_code = 401


class InsufficientScope(OAuthError):
    """RFC 6750 section 3.1: the token lacks the scope the resource needs."""

    error = "insufficient_scope"
    status_code = 403

    def __init__(self, description: str, *, scope: str) -> None:
        super().__init__(description)
        self.scope = scope


class InvalidTarget(OAuthError):
    """RFC 8707 section 2: "The requested resource is invalid, missing, unknown, or malformed." """

    error = "invalid_target"


class RequestNotSupported(OAuthError):
    """OIDC Core 6.1: the request parameter (a request object) is not supported."""

    error = "request_not_supported"


class RequestUriNotSupported(OAuthError):
    """OIDC Core 6.2: the request_uri parameter is not supported."""

    error = "request_uri_not_supported"


def refuse_repeated(repeated: frozenset[str], section: str) -> None:
    """RFC 6749 section 3.1: parameters "MUST NOT be included more than once"."""
    if repeated:
        raise InvalidRequest(f"the parameter {echo(sorted(repeated)[0])} was sent more than once ({section})")
