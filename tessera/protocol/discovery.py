"""Authorization server metadata: RFC 8414 section 2 and OpenID Connect Discovery 1.0
section 3; RFC 9207 section 3 (authorization_response_iss_parameter_supported).

One document serves both well-known paths. It lists exactly what an account supports;
each account is its own issuer, so every URL is built from the account's issuer.
"""

from __future__ import annotations

from typing import Any

from tessera.model import SIGNING_ALGS
from tessera.protocol import scopes
from tessera.protocol.client_auth import METHODS


def metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorizations/new",
        "token_endpoint": f"{issuer}/oauth/tokens",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "end_session_endpoint": f"{issuer}/access/logout",
        "scopes_supported": list(scopes.KNOWN_SCOPES),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials", "password"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(METHODS),
        "revocation_endpoint_auth_methods_supported": list(METHODS),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "amr",
            "name",
            "preferred_username",
            "updated_at",
            "email",
            "email_verified",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{issuer}/",
    }
