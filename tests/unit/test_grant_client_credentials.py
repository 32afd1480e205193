"""protocol/grants/client_credentials.py: RFC 6749 sections 4.4, 4.4.2 and 4.4.3."""

from __future__ import annotations

import pytest

from tessera.protocol import secrets
from tessera.protocol.errors import InvalidScope, UnauthorizedClient
from tessera.protocol.grants import client_credentials
from tests.unit.builders import USER_ID
from tests.unit.memory_server import CLIENT_CREDENTIALS_REQUEST, NOW, server

pytestmark = pytest.mark.anyio

EVERY_GRANT = frozenset({"client_credentials", "authorization_code", "refresh_token"})


async def test_section_4_4_2_request_gets_an_access_token_acting_as_the_owner() -> None:
    s = server(grant_types=EVERY_GRANT)
    body = await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST), s.ctx)
    assert body["token_type"] == "bearer" and body["expires_in"] == 1_800
    assert body["scope"] == "read write"  # no scope sent: the client's allowed scopes
    stored = await s.stores.tokens.find_access(secrets.digest(str(body["access_token"])))
    assert stored is not None and stored.user_id == USER_ID and stored.created_at == NOW


async def test_never_a_refresh_token_even_for_a_client_allowed_the_refresh_grant() -> None:
    """Section 4.4.3: "A refresh token SHOULD NOT be included"."""
    s = server(grant_types=EVERY_GRANT)
    for scope in (None, "read"):
        params = CLIENT_CREDENTIALS_REQUEST if scope is None else CLIENT_CREDENTIALS_REQUEST | {"scope": scope}
        body = await client_credentials.handle(s.request(params), s.ctx)
        assert "refresh_token" not in body and "refresh_token_expires_in" not in body


async def test_a_public_client_may_not_use_it() -> None:
    """Section 4.4: it "MUST only be used by confidential clients"."""
    s = server(grant_types=EVERY_GRANT, kind="public", secret_hash=None)
    with pytest.raises(UnauthorizedClient, match="needs a confidential client"):
        await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST), s.ctx)


@pytest.mark.parametrize("owner", [{"user_id": None}, {"account_id": None}], ids=["no owner", "global client"])
async def test_a_client_without_an_owner_in_the_account_may_not_use_it(owner: dict[str, None]) -> None:
    s = server(grant_types=EVERY_GRANT, **owner)
    with pytest.raises(UnauthorizedClient, match="would act as nobody"):
        await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST), s.ctx)


@pytest.mark.parametrize("scope", ["openid", "offline_access"])
async def test_user_only_scopes_are_invalid_scope(scope: str) -> None:
    s = server(grant_types=EVERY_GRANT, allowed_scopes=())
    with pytest.raises(InvalidScope, match=f"{scope} needs a signed-in user"):
        await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST | {"scope": f"{scope} read"}), s.ctx)


async def test_a_scope_the_client_is_not_allowed_is_invalid_scope() -> None:
    s = server(grant_types=EVERY_GRANT, allowed_scopes=("read",))
    with pytest.raises(InvalidScope):
        await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST | {"scope": "write"}), s.ctx)
