"""Authorization server metadata: RFC 8414 section 2 and OpenID Connect Discovery 1.0
section 3 (ui_locales_supported among it); RFC 9207 section 3
(authorization_response_iss_parameter_supported).

One document serves both well-known paths. It lists exactly what an account supports;
each account is its own issuer, so every URL is built from the account's issuer.
"""

from __future__ import annotations

from typing import Any

from tessera import i18n, paths
from tessera.model import SIGNING_ALGS
from tessera.protocol import client_assertion, dpop, pkce, scopes
from tessera.protocol.authorization import PROMPTS, RESPONSE_TYPES
from tessera.protocol.authorization_trust import RESPONSE_MODES
from tessera.protocol.client_auth import BASIC, METHODS, POST, PRIVATE_KEY_JWT
from tessera.protocol.grants import GRANTS


def grant_types() -> list[str]:
    """The grants behind the response types (implicit among them), then the token
    endpoint's; each once, in the order the registries hold them."""
    return list(dict.fromkeys([*RESPONSE_TYPES.values(), *GRANTS]))


def metadata(issuer: str, *, registration: bool = False, metadata_documents: bool = False) -> dict[str, Any]:
    """The document; `registration`: the account lets clients register themselves (its
    policy is not `off`), so RFC 8414 section 2's registration_endpoint is advertised;
    `metadata_documents` when the account resolves client_ids that are metadata document
    URLs (the same policy)."""
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + paths.AUTHORIZE,
        "token_endpoint": issuer + paths.TOKEN,
        "revocation_endpoint": issuer + paths.REVOKE,
        "introspection_endpoint": issuer + paths.INTROSPECT,
        "userinfo_endpoint": issuer + paths.USERINFO,
        "jwks_uri": issuer + paths.JWKS,
        # RFC 8628 section 4.
        "device_authorization_endpoint": issuer + paths.DEVICE_AUTHORIZATION,
        "end_session_endpoint": issuer + paths.LOGOUT,
        "scopes_supported": list(scopes.KNOWN_SCOPES),
        "response_types_supported": list(RESPONSE_TYPES),
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": grant_types(),
        "code_challenge_methods_supported": [pkce.S256],
        "token_endpoint_auth_methods_supported": list(METHODS),
        "revocation_endpoint_auth_methods_supported": list(METHODS),
        # Introspection needs a confidential client (protocol/introspection.py).
        "introspection_endpoint_auth_methods_supported": [BASIC, POST, PRIVATE_KEY_JWT],
        # private_key_jwt assertions (RFC 8414 section 2; protocol/client_assertion.py).
        "token_endpoint_auth_signing_alg_values_supported": list(client_assertion.ALGORITHMS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(client_assertion.ALGORITHMS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(client_assertion.ALGORITHMS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGS),
        "prompt_values_supported": list(PROMPTS),
        # OpenID Connect Discovery 1.0 section 3: the languages of the pages an authorization
        # request shows, which its ui_locales may ask for (OIDC Core 1.0 section 3.1.2.1).
        "ui_locales_supported": list(i18n.LANGUAGES),
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
        # request_uri is supported for the URIs the PAR endpoint issues (RFC 9126), and only those.
        "request_uri_parameter_supported": True,
        "authorization_response_iss_parameter_supported": True,
        # RFC 9126 section 5: the PAR endpoint; PAR is not required server-wide (a client may
        # be set to require it: its require_pushed_authorization_requests metadata).
        "pushed_authorization_request_endpoint": issuer + paths.PAR,
        "require_pushed_authorization_requests": False,
        "service_documentation": issuer + paths.HOME,
        # RFC 9449 section 5.1: the algorithms DPoP proofs may be signed with.
        "dpop_signing_alg_values_supported": list(dpop.ALGORITHMS),
    }
    if registration:
        document["registration_endpoint"] = issuer + paths.REGISTER
    if metadata_documents:
        # draft-ietf-oauth-client-id-metadata-document-00 section 5: servers "MUST include"
        # it to signal support; an account whose policy is off does not support them.
        document["client_id_metadata_document_supported"] = True
    return document
