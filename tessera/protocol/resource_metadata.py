"""Protected-resource metadata: RFC 9728 sections 2, 3 and 5.1.

Each account's API is a protected resource named `ISSUER/api/v2` (INTERFACE.md section 8),
whose authorization server is the account. Its metadata lives at the well-known URI built
as section 3.1 says, by inserting `/.well-known/oauth-protected-resource` between the host
and the resource's path; the bare well-known path answers the same document, for clients
that look there first. Every refusal of the API names the document's URL in
`WWW-Authenticate` (section 5.1), so a client that knows only the API's URL finds the
authorization server.
"""

from __future__ import annotations

from typing import Any

from tessera import paths
from tessera.protocol import resource_indicators, scopes


def url(issuer: str) -> str:
    """Section 3.1: the metadata URL of the account's API."""
    return issuer + paths.API_RESOURCE_METADATA


def api_scopes() -> list[str]:
    """The scopes the API understands: every known scope but OIDC's, which are about the
    user and are for the authorization server's own endpoints."""
    return [s for s in scopes.KNOWN_SCOPES if s not in scopes.OIDC_SCOPES]


def metadata(issuer: str, account_name: str) -> dict[str, Any]:
    """Section 2. `resource` is the API's identifier, which a client sends as `resource`
    (RFC 8707) and finds again as the `aud` of its tokens."""
    return {
        "resource": resource_indicators.account_api(issuer),
        "authorization_servers": [issuer],
        "scopes_supported": api_scopes(),
        # Tokens only in the Authorization header (RFC 6750 section 2.1; protocol/bearer.py).
        "bearer_methods_supported": ["header"],
        "resource_name": f"{account_name} API",
        "resource_documentation": issuer + paths.API_OPENAPI,
    }
