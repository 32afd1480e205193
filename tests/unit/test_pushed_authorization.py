"""tessera/protocol/pushed_authorization.py over the in-memory stores: RFC 9126 sections
2.1 (validate, refuse a pushed request_uri), 2.2 (the response), 4 (by reference: only
client_id and request_uri count) and 7.3 (one use; a flow resumed only with its secret)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from tessera.model import Account
from tessera.protocol import pushed_authorization as par
from tessera.protocol.authorization_trust import PageError
from tessera.protocol.errors import InvalidClient, InvalidRequest, InvalidScope
from tessera.storage.memory import MemoryStores
from tests.unit.builders import ACCOUNT_ID, SECRET, WEB_REDIRECT, make_client, make_public_client, vector

pytestmark = pytest.mark.anyio

ACCOUNT = Account(id=ACCOUNT_ID, subdomain="acme", name="Acme", created_at=0.0)
ISSUER = "https://acme.tessera.example"
NOW = 1_000_000.0
RFC7636 = vector("rfc7636_appendix_b")
BASIC = "Basic " + base64.b64encode(f"acme_web:{SECRET}".encode()).decode()
NO_REPEATS: frozenset[str] = frozenset()


@pytest.fixture
def stores() -> MemoryStores:
    stores = MemoryStores()
    stores.clients.add(make_client())
    stores.clients.add(make_public_client(redirect_uris=("http://127.0.0.1/cb",)))
    return stores


def _params(**extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "redirect_uri": WEB_REDIRECT,
        "scope": "read",
        "state": "xyz",
        "code_challenge": RFC7636["code_challenge"],
        "code_challenge_method": "S256",
        **extra,
    }


async def _push(stores: MemoryStores, params: dict[str, str], authorization: str | None = BASIC) -> dict[str, Any]:
    return await par.push(
        params,
        NO_REPEATS,
        authorization,
        ACCOUNT,
        ISSUER,
        NOW,
        clients=stores.clients,
        resources=stores.resources,
        store=stores.pushed_requests,
    )


async def _resolve(stores: MemoryStores, params: dict[str, str], now: float = NOW + 1) -> par.Pending:
    return await par.resolve(params, NO_REPEATS, ACCOUNT, now, clients=stores.clients, store=stores.pushed_requests)


async def test_the_response_is_a_request_uri_urn_living_60_seconds(stores: MemoryStores) -> None:
    body = await _push(stores, _params())
    assert set(body) == {"request_uri", "expires_in"}
    assert body["expires_in"] == 60
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    # 256 random bits: 43 base64url characters after the prefix.
    assert len(body["request_uri"].rsplit(":", 1)[1]) == 43


async def test_the_client_must_authenticate(stores: MemoryStores) -> None:
    with pytest.raises(InvalidClient):
        await _push(stores, {**_params(), "client_id": "acme_web"}, authorization=None)


async def test_a_pushed_request_uri_is_invalid_request(stores: MemoryStores) -> None:
    with pytest.raises(InvalidRequest, match="request_uri"):
        await _push(stores, _params(request_uri="urn:x"))


async def test_pushed_parameters_meet_the_authorization_endpoint_rules(stores: MemoryStores) -> None:
    with pytest.raises(InvalidScope):
        await _push(stores, _params(scope="nope"))
    with pytest.raises(InvalidRequest, match="redirect_uri"):
        await _push(stores, _params(redirect_uri="https://evil.example/cb"))


async def test_by_reference_only_client_id_and_request_uri_count(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    pending = await _resolve(
        stores, {"client_id": "acme_web", "request_uri": uri, "scope": "write", "redirect_uri": "https://x.example"}
    )
    assert pending.params["scope"] == "read"
    assert pending.params["client_id"] == "acme_web"
    assert "client_secret" not in json.dumps(pending.params)
    assert pending.reply.redirect_uri == WEB_REDIRECT and pending.reply.state == "xyz"
    carried = pending.flow.carried
    assert set(carried) == {"client_id", "request_uri", par.FLOW}


async def test_one_use_then_resumed_only_with_the_flow_secret(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    first = await _resolve(stores, {"client_id": "acme_web", "request_uri": uri})
    with pytest.raises(PageError, match="already used"):
        await _resolve(stores, {"client_id": "acme_web", "request_uri": uri})
    resumed = await _resolve(stores, first.flow.carried, now=NOW + 600)
    assert resumed.params == first.params
    await par.complete(stores.pushed_requests, ACCOUNT_ID, resumed.flow, NOW + 601)
    with pytest.raises(PageError, match="already answered"):
        await par.complete(stores.pushed_requests, ACCOUNT_ID, resumed.flow, NOW + 602)
    with pytest.raises(PageError, match="already used"):
        await _resolve(stores, first.flow.carried, now=NOW + 603)


async def test_expired_after_60_seconds(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    with pytest.raises(PageError, match="expired"):
        await _resolve(stores, {"client_id": "acme_web", "request_uri": uri}, now=NOW + 60)


async def test_bound_to_the_client_that_pushed_it(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    with pytest.raises(PageError, match="another client"):
        await _resolve(stores, {"client_id": "acme_spa", "request_uri": uri})


async def test_a_forged_flow_secret_does_not_resume(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    await _resolve(stores, {"client_id": "acme_web", "request_uri": uri})
    with pytest.raises(PageError):
        await _resolve(stores, {"client_id": "acme_web", "request_uri": uri, par.FLOW: "guess"})


async def test_the_store_keeps_only_the_digest(stores: MemoryStores) -> None:
    uri = (await _push(stores, _params()))["request_uri"]
    digest = hashlib.sha256(uri.encode()).digest()
    found = await stores.pushed_requests.find(ACCOUNT_ID, digest)
    assert found is not None and found.client_id == 42
    assert uri not in found.parameters
