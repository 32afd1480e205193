"""tessera/protocol/rp_logout.py: OpenID Connect RP-Initiated Logout 1.0 sections 2, 3 and
4, and Zendesk's return_to (INTERFACE.md section 4, `/access/logout`), without HTTP.

The stores are small in-memory fakes of protocol/ports.py's ClientStore and KeyRing; ID
token hints are signed here with a key made for the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import ECKey, KeySet

from tessera.model import Client
from tessera.protocol import id_token, rp_logout
from tessera.protocol.ports import LoadedKey
from tests.unit.builders import ACCOUNT_ID, ISSUER, WEB_REDIRECT, make_client, make_public_client

pytestmark = pytest.mark.anyio

SPA_REDIRECT = "https://spa.example.com/cb"
OTHER_ISSUER = "https://beta.tessera.example"


class Clients:
    """ClientStore: the clients usable on ACCOUNT_ID, looked up by identifier."""

    def __init__(self, *clients: Client) -> None:
        self.clients = {c.identifier: c for c in clients}

    async def find(self, account_id: int, identifier: str) -> Client | None:
        return self.clients.get(identifier) if account_id == ACCOUNT_ID else None

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        return next((c for c in self.clients.values() if c.id == numeric_id), None)

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return account_id == ACCOUNT_ID and any(uri in c.redirect_uris for c in self.clients.values())


class Keys:
    """KeyRing: publishes one ES256 key."""

    def __init__(self) -> None:
        key = ECKey.generate_key("P-256", parameters={"kid": "k1", "alg": "ES256", "use": "sig"}, private=True)
        self.loaded = LoadedKey(kid="k1", alg="ES256", key=key)

    async def signing_key(self, account_id: int, alg: str) -> LoadedKey:
        return self.loaded

    async def published(self, account_id: int) -> KeySet:
        return KeySet.import_key_set({"keys": [self.loaded.key.as_dict(private=False)]})


KEYS = Keys()
CLIENTS = Clients(make_client(), make_public_client(redirect_uris=(SPA_REDIRECT,)))


def _hint(aud: str = "acme_web", iss: str = ISSUER) -> str:
    return id_token.encode(KEYS.loaded, {"iss": iss, "aud": aud, "sub": "3", "iat": 1_000, "exp": 4_600})


async def _destination(**params: str) -> str | None:
    return await rp_logout.destination(params, ACCOUNT_ID, ISSUER, clients=CLIENTS, keys=KEYS)


async def test_hint_and_a_registered_uri_redirect_with_state() -> None:
    """Sections 2 and 3: the hint names the client; its registered URI gets state as a query parameter."""
    found = await _destination(id_token_hint=_hint(), post_logout_redirect_uri=WEB_REDIRECT, state="s 1&x")
    assert found == WEB_REDIRECT + "?state=s+1%26x"


async def test_no_state_means_no_state_parameter() -> None:
    assert await _destination(id_token_hint=_hint(), post_logout_redirect_uri=WEB_REDIRECT) == WEB_REDIRECT


async def test_state_is_appended_to_the_uris_own_query() -> None:
    """The registered URI keeps its own query; state is added after it."""
    with_query = "https://app.example.com/bye?lang=en"
    clients = Clients(make_client(redirect_uris=(with_query,)))
    params: dict[str, Any] = {"client_id": "acme_web", "post_logout_redirect_uri": with_query, "state": "xyz"}
    found = await rp_logout.destination(params, ACCOUNT_ID, ISSUER, clients=clients, keys=KEYS)
    assert found == "https://app.example.com/bye?lang=en&state=xyz"


async def test_client_id_alone_names_the_client() -> None:
    assert await _destination(client_id="acme_spa", post_logout_redirect_uri=SPA_REDIRECT) == SPA_REDIRECT


async def test_hint_and_matching_client_id() -> None:
    found = await _destination(id_token_hint=_hint(), client_id="acme_web", post_logout_redirect_uri=WEB_REDIRECT)
    assert found == WEB_REDIRECT


async def test_hint_whose_audience_differs_from_client_id_is_not_followed() -> None:
    """Section 2: a client_id beside the hint must be the hint's audience."""
    found = await _destination(id_token_hint=_hint(), client_id="acme_spa", post_logout_redirect_uri=SPA_REDIRECT)
    assert found is None


@pytest.mark.parametrize("hint", ["not-a-jwt", _hint(iss=OTHER_ISSUER)])
async def test_a_hint_this_issuer_did_not_sign_is_not_followed(hint: str) -> None:
    """Section 2: "the OP MUST validate that it was the issuer of the ID Token"."""
    assert await _destination(id_token_hint=hint, post_logout_redirect_uri=WEB_REDIRECT) is None


async def test_a_uri_of_another_client_is_not_followed() -> None:
    """Section 3: the URI must be registered for the client the request names."""
    assert await _destination(id_token_hint=_hint(), post_logout_redirect_uri=SPA_REDIRECT) is None


async def test_an_unregistered_uri_is_not_followed() -> None:
    """Section 3: "The OP MUST NOT perform post-logout redirection if [it] does not exactly match"."""
    assert await _destination(client_id="acme_web", post_logout_redirect_uri=WEB_REDIRECT + "/x") is None


async def test_a_uri_without_any_client_is_not_followed() -> None:
    assert await _destination(post_logout_redirect_uri=WEB_REDIRECT) is None


async def test_an_unknown_client_id_is_not_followed() -> None:
    assert await _destination(client_id="nobody", post_logout_redirect_uri=WEB_REDIRECT) is None


async def test_return_to_a_registered_uri_is_followed() -> None:
    """INTERFACE.md section 4: return_to must be a registered redirect URI of a usable client."""
    assert await _destination(return_to=SPA_REDIRECT) == SPA_REDIRECT


async def test_return_to_anything_else_is_ignored() -> None:
    assert await _destination(return_to="https://evil.example.com/") is None


async def test_post_logout_redirect_uri_decides_alone_when_present() -> None:
    """A refused post_logout_redirect_uri is not rescued by a registered return_to."""
    found = await _destination(post_logout_redirect_uri="https://evil.example.com/", return_to=WEB_REDIRECT)
    assert found is None


async def test_no_parameters_mean_the_signed_out_page() -> None:
    """Section 4: without a redirection the OP shows its own page."""
    assert await _destination() is None
