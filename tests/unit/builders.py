"""Model objects and RFC vectors for the protocol unit tests.

The builders make tessera.model dataclasses directly, with literal defaults, so a unit test
needs no storage. Expected values come from literals here or from tests/vectors/, never
from the code under test.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import settings

from tessera.model import AccessToken, Client

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

ACCOUNT_ID = 7
OTHER_ACCOUNT_ID = 8
USER_ID = 3
ISSUER = "https://acme.tessera.example"

# A confidential client's secret and its SHA-256 digest, computed once outside the code
# under test (hashlib.sha256(SECRET.encode()).hexdigest()) and kept here as a literal.
SECRET = "tss_Wp3kJx9vQ2mT7rLc8nHd4sYf6gBa1eZu0oKi5RqNw3X"
SECRET_SHA256_HEX = "b1c9c78da377c3cdde15c69f509efea046c76bff205b34ab0f08550d5f7fd8c0"

WEB_REDIRECT = "https://app.example.com/callback"


@cache
def vector(name: str) -> Any:
    """The parsed JSON of tests/vectors/NAME.json."""
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def make_client(**overrides: Any) -> Client:
    """A confidential client with the default grants (authorization_code, refresh_token)."""
    fields: dict[str, Any] = {
        "id": 42,
        "account_id": ACCOUNT_ID,
        "identifier": "acme_web",
        "name": "Acme Web",
        "description": "",
        "company": "Acme",
        "logo_url": "",
        "redirect_uris": (WEB_REDIRECT,),
        "kind": "confidential",
        "grant_types": frozenset({"authorization_code", "refresh_token"}),
        "allowed_scopes": (),
        "access_token_lifetime": 1_800,
        "refresh_token_lifetime": 2_592_000,
        "access_token_format": "opaque",
        "introspection": False,
        "user_id": USER_ID,
        "secret_hash": bytes.fromhex(SECRET_SHA256_HEX),
        "secret_prefix": SECRET[:9],
        "created_at": 1_000.0,
        "updated_at": 1_000.0,
    }
    fields.update(overrides)
    return Client(**fields)


def make_public_client(**overrides: Any) -> Client:
    """A public client (a SPA or native app): no secret, PKCE required."""
    fields: dict[str, Any] = {
        "id": 43,
        "identifier": "acme_spa",
        "name": "Acme SPA",
        "kind": "public",
        "secret_hash": None,
        "secret_prefix": "",
    }
    fields.update(overrides)
    return make_client(**fields)


def make_token(**overrides: Any) -> AccessToken:
    """An access token of ACCOUNT_ID created at t=1000 that expires at t=2800."""
    fields: dict[str, Any] = {
        "id": 1,
        "account_id": ACCOUNT_ID,
        "client_id": 42,
        "user_id": USER_ID,
        "scopes": ("read",),
        "family": "f" * 32,
        "token_prefix": "tsa_abcdef",
        "created_at": 1_000.0,
        "expires_at": 2_800.0,
        "used_at": None,
        "revoked_at": None,
    }
    fields.update(overrides)
    return AccessToken(**fields)


# Hypothesis settings for every property test here: no example database written into the
# working tree, and no per-example deadline (the suite also runs under pytest-xdist load).
PROPERTY = settings(database=None, deadline=None)
