"""Client ID metadata documents: draft-ietf-oauth-client-id-metadata-document-00 sections 3,
4.1, 4.3, 4.5 and 6.5; the MCP authorization specification (2025-11-25), "Client ID Metadata
Documents".

A client_id that is an https URL names a JSON document, served at that URL, that describes
the client. This module holds the rules, free of I/O: which URLs qualify (section 3), and
what a fetched document must say (section 4.1) before Tessera treats it as a public client
with those redirect URIs. Fetching (the SSRF guard, limits, caching) is in tessera/fetching.

Tessera accepts only public clients this way (token_endpoint_auth_method "none", PKCE S256
required like every public client): section 4.1 lets other specifications restrict the
document "by requiring the token_endpoint_auth_method property be set to "none"", and
private_key_jwt is not implemented.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera import shown_text
from tessera.protocol import redirect_uri
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidScope

# The clients.identifier column: a longer URL cannot be a client's identifier.
MAX_URL_LENGTH = 255
MAX_NAME = 255
MAX_URI = 2000
# Section 6.6: "The recommended maximum response size for client metadata documents is 5 kilobytes."
MAX_DOCUMENT_BYTES = 5 * 1024
# What a client that describes itself may do: sign users in through a browser and keep
# the session with refresh tokens. Anything else needs an admin to register the client.
ALLOWED_GRANT_TYPES = ("authorization_code", "refresh_token")
# RFC 7591 section 2: "If omitted, the default is that the client will use only the
# authorization_code Grant Type."
DEFAULT_GRANT_TYPES = ("authorization_code",)
# Section 4.1: "the token_endpoint_auth_method property MUST NOT include client_secret_post,
# client_secret_basic, client_secret_jwt, or any other method based around a shared
# symmetric secret"; "the client_secret and client_secret_expires_at properties MUST NOT be used".
SHARED_SECRET_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt")
FORBIDDEN_PROPERTIES = ("client_secret", "client_secret_expires_at")


class DocumentProblem(Exception):
    """The client_id URL, or the document it names, cannot describe a client; the message
    says what is wrong in words the client's developer can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """What a valid document says about its client, in Tessera's terms."""

    client_id: str
    name: str
    logo_uri: str
    client_uri: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]  # empty: any scope Tessera knows


def is_url(client_id: str) -> bool:
    """Whether a client_id is meant as a metadata document URL. No client an admin makes
    can have one (identifiers are letters, digits, '_', '.' and '-'), nor one Tessera
    generates, so nothing else is mistaken for it (section 6.9 of later drafts)."""
    head = client_id[:8].lower()
    return head.startswith("https://") or head.startswith("http://")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, *, allow_http_loopback: bool = False) -> str | None:
    """Why `url` cannot be a client identifier URL (section 3), or None.

    Section 3: client identifier URLs "MUST have an "https" scheme, MUST contain a path
    component, MUST NOT contain single-dot or double-dot path segments, MUST NOT contain a
    fragment component and MUST NOT contain a username or password". A query is allowed
    (it SHOULD NOT be there, but MAY). With `allow_http_loopback` (development only), http
    on a loopback host is accepted too, so that tests can serve documents locally.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"it is {len(url)} characters long; Tessera accepts client_id URLs of at most {MAX_URL_LENGTH}"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises ValueError
    except ValueError:
        return "it cannot be parsed as a URL (check the host and port)"
    host = parts.hostname or ""
    if parts.scheme != "https" and not (allow_http_loopback and parts.scheme == "http" and _is_loopback(host)):
        return "it must use the https scheme (section 3)"
    if not host:
        return "it has no host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "it must not contain a username or password (section 3)"
    if "#" in url:
        return "it must not contain a fragment (section 3)"
    if not parts.path:
        return "it must contain a path, such as https://app.example/client.json (section 3)"
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return "it must not contain . or .. path segments (section 3)"
    return None


def _text(document: Mapping[str, object], field: str, limit: int, *, required: bool = False) -> str:
    value = document.get(field)
    if value is None:
        if required:
            raise DocumentProblem(f"the document has no {field}; it is required")
        return ""
    if not isinstance(value, str):
        raise DocumentProblem(f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise DocumentProblem(f"{field} must not be empty")
    if len(value) > limit:
        raise DocumentProblem(f"{field} may be at most {limit} characters (it has {len(value)})")
    if shown_text.CONTROL.search(value):
        raise DocumentProblem(f"{field} may not contain control characters")
    shown = shown_text.hidden_problem(field, value) or (shown_text.blank_problem(field, value) if required else None)
    if shown is not None:
        raise DocumentProblem(str(shown))
    return value


def _https_uri(document: Mapping[str, object], field: str) -> str:
    value = _text(document, field, MAX_URI)
    if value:
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is None or parts.scheme != "https" or not parts.hostname or parts.username is not None:
            raise DocumentProblem(f"{field} must be an absolute https URL, not {value[:80]!r}")
    return value


def _string_list(document: Mapping[str, object], field: str) -> tuple[str, ...] | None:
    value = document.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DocumentProblem(f"{field} must be an array of strings")
    return tuple(dict.fromkeys(value))


def _redirect_uris(document: Mapping[str, object]) -> tuple[str, ...]:
    """Section 4.5: the document registers the redirect URIs; by the rules every client's
    are held to (protocol/redirect_uri.py), exactly as an admin would register them."""
    uris = _string_list(document, "redirect_uris")
    if not uris:
        raise DocumentProblem("the document has no redirect_uris; list at least one (section 4.5)")
    for uri in uris:
        reason = redirect_uri.problem(uri)
        if reason is not None:
            raise DocumentProblem(f"redirect_uris: {reason}")
    return uris


def _grant_types(document: Mapping[str, object]) -> tuple[str, ...]:
    grant_types = _string_list(document, "grant_types") or DEFAULT_GRANT_TYPES
    other = [g for g in grant_types if g not in ALLOWED_GRANT_TYPES]
    if other:
        raise DocumentProblem(
            f"grant_types may hold only {' and '.join(ALLOWED_GRANT_TYPES)}, not {other[0][:60]!r}: "
            "an app that describes itself signs users in through the browser"
        )
    if "authorization_code" not in grant_types:
        raise DocumentProblem("grant_types must include authorization_code")
    response_types = _string_list(document, "response_types")
    if response_types is not None and set(response_types) != {"code"}:
        raise DocumentProblem('response_types may only be ["code"]')
    return grant_types


def _auth_method(document: Mapping[str, object]) -> None:
    # A property set to null is taken as absent (serialisers often write every field).
    present = [name for name in FORBIDDEN_PROPERTIES if document.get(name) is not None]
    if present:
        raise DocumentProblem(f"the document must not contain {present[0]} (section 4.1): it is public")
    method = document.get("token_endpoint_auth_method")
    if method is None or method == "none":
        return
    if method in SHARED_SECRET_METHODS:
        raise DocumentProblem(
            f"token_endpoint_auth_method {method} needs a shared secret, which a metadata document "
            'cannot establish (section 4.1); use "none" (a public client with PKCE)'
        )
    shown = method[:60] if isinstance(method, str) else "of that type"
    raise DocumentProblem(
        f'token_endpoint_auth_method {shown!r} is not supported for metadata documents; use "none" '
        "(a public client with PKCE)"
    )


def _scopes(document: Mapping[str, object]) -> tuple[str, ...]:
    raw = document.get("scope")
    if raw is None:
        return ()
    if not isinstance(raw, str):
        raise DocumentProblem("scope must be a string of space-separated scopes")
    scopes = tuple(dict.fromkeys(raw.split()))
    try:
        scope_rules.validate(scopes, ())
    except InvalidScope as problem:
        raise DocumentProblem(f"scope: {problem.description}") from None
    return scopes


def parse(url: str, document: object) -> ClientMetadata:
    """The client a fetched document describes, or DocumentProblem.

    Section 4.1: the document "MUST contain a client_id property whose value MUST match the
    URL of the document using simple string comparison". Properties Tessera does not use
    (jwks_uri, tos_uri, ...) are ignored, as the section lets documents carry them.
    """
    if not isinstance(document, dict):
        raise DocumentProblem("the document is not a JSON object")
    client_id = document.get("client_id")
    if client_id is None:
        raise DocumentProblem("the document has no client_id; it must hold the document's own URL (section 4.1)")
    if client_id != url:
        shown = client_id[:120] if isinstance(client_id, str) else "not a string"
        raise DocumentProblem(
            f"the document's client_id ({shown!r}) is not its own URL ({url!r}); they must be "
            "exactly equal (section 4.1)"
        )
    _auth_method(document)
    return ClientMetadata(
        client_id=url,
        name=_text(document, "client_name", MAX_NAME, required=True),
        logo_uri=_https_uri(document, "logo_uri"),
        client_uri=_https_uri(document, "client_uri"),
        redirect_uris=_redirect_uris(document),
        grant_types=_grant_types(document),
        scopes=_scopes(document),
    )
