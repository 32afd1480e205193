"""tessera/protocol/discovery.py is built from the registries the rules use (RFC 8414
section 2, OpenID Connect Discovery 1.0 section 3): what it advertises is what the
authorization and token endpoints accept, and a new entry in a registry is advertised
without a second edit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tessera import i18n
from tessera.protocol import authorization, discovery
from tessera.protocol.authorization import PROMPTS, RESPONSE_TYPES
from tessera.protocol.authorization_trust import RESPONSE_MODES, Reply
from tessera.protocol.errors import InvalidRequest, InvalidScope
from tessera.protocol.grants import GRANTS
from tests.unit.builders import ISSUER, WEB_REDIRECT, make_client

DOC = discovery.metadata(ISSUER)
# A client allowed every grant, so that each response type is exercised.
EVERYTHING = make_client(grant_types=frozenset({"authorization_code", "implicit", "refresh_token"}))
NO_REPEATS: frozenset[str] = frozenset()


def _parse(**params: str) -> Any:
    base = {"client_id": "acme_web", "response_type": "code", "scope": "read"}
    merged = {**base, **params}
    reply = Reply(redirect_uri=WEB_REDIRECT, response_mode="query", state=None)
    return authorization.parse(merged, NO_REPEATS, EVERYTHING, reply)


def test_grant_types_are_the_token_endpoints_and_the_response_types_grants() -> None:
    """RFC 8414 section 2 grant_types_supported: every grant_type the token endpoint handles,
    and implicit, which response_type=token uses (written out here as INTERFACE.md lists them)."""
    assert DOC["grant_types_supported"] == [
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert set(DOC["grant_types_supported"]) == set(GRANTS) | set(RESPONSE_TYPES.values())


def test_a_grant_added_to_the_registry_is_advertised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery reads GRANTS itself: a new grant needs no second edit."""
    monkeypatch.setitem(GRANTS, "urn:example:grant", GRANTS["password"])
    assert discovery.metadata(ISSUER)["grant_types_supported"][-1] == "urn:example:grant"


@pytest.mark.parametrize("response_type", DOC["response_types_supported"])
def test_every_advertised_response_type_is_accepted(response_type: str) -> None:
    """RFC 8414 section 2 response_types_supported: each is one the endpoint knows."""
    assert _parse(response_type=response_type).response_type == response_type
    assert DOC["response_types_supported"] == list(RESPONSE_TYPES) == ["code", "token"]


@pytest.mark.parametrize("mode", DOC["response_modes_supported"])
def test_every_advertised_response_mode_is_accepted(mode: str) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices: each advertised mode parses."""
    _parse(response_mode=mode)
    assert DOC["response_modes_supported"] == list(RESPONSE_MODES) == ["query", "fragment", "form_post"]


def test_an_unadvertised_response_mode_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        _parse(response_mode="web_message")


@pytest.mark.parametrize("prompt", DOC["prompt_values_supported"])
def test_every_advertised_prompt_is_accepted(prompt: str) -> None:
    """OIDC Discovery prompt_values_supported, OIDC Core 3.1.2.1."""
    assert _parse(prompt=prompt).prompt == frozenset({prompt})
    assert DOC["prompt_values_supported"] == list(PROMPTS) == ["none", "login", "consent", "select_account"]


def test_ui_locales_supported_lists_the_languages_of_the_pages() -> None:
    """OpenID Connect Discovery 1.0 section 3: ui_locales_supported, the languages the
    user interface may be shown in, which an authorization request's ui_locales (OIDC Core
    1.0 section 3.1.2.1) chooses from."""
    assert DOC["ui_locales_supported"] == ["en", "de", "ja", "ar"]
    assert all(i18n.preferred(tag) == (tag, tag) for tag in DOC["ui_locales_supported"])


def test_an_unadvertised_prompt_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        _parse(prompt="create")


def test_every_advertised_scope_is_accepted() -> None:
    """OIDC Discovery 3 scopes_supported, INTERFACE.md "Scopes": with address and phone."""
    scopes = DOC["scopes_supported"]
    assert {"openid", "profile", "email", "address", "phone", "offline_access"} <= set(scopes)
    assert _parse(scope=" ".join(scopes)).scopes == tuple(scopes)
    with pytest.raises(InvalidScope):
        _parse(scope="openid postal_address")


def test_endpoints_are_the_route_tables_paths() -> None:
    """INTERFACE.md section 4, under the issuer (RFC 8414 section 2)."""
    assert DOC["authorization_endpoint"] == ISSUER + "/oauth/authorizations/new"
    assert DOC["end_session_endpoint"] == ISSUER + "/access/logout"
    assert DOC["service_documentation"] == ISSUER + "/"
