"""protocol/grants/password.py through the token endpoint: RFC 6749 sections 4.3.2 and 4.3.3,
RFC 9700 section 2.4 (off unless enabled for the client), section 10.7 (brute force)."""

from __future__ import annotations

import dataclasses

import pytest

from tessera.protocol import secrets
from tessera.protocol.errors import InvalidGrant, InvalidRequest, TooManyRequests, UnauthorizedClient
from tessera.storage.memory.sign_in import MemoryAuthenticator
from tests.unit.builders import USER_ID
from tests.unit.memory_server import PASSWORD_REQUEST, Server, server

pytestmark = pytest.mark.anyio

ENABLED = frozenset({"password", "refresh_token"})


async def test_off_for_a_client_that_was_not_given_the_password_grant() -> None:
    """Default grants are authorization_code and refresh_token: the section 4.3.2 request is refused."""
    s = server()
    with pytest.raises(UnauthorizedClient, match="not allowed the password grant"):
        await s.exchange(PASSWORD_REQUEST)


async def test_section_4_3_2_request_gets_tokens_for_the_user_when_enabled() -> None:
    s = server(grant_types=ENABLED)
    body = await s.exchange(PASSWORD_REQUEST)
    assert body["token_type"] == "bearer" and "refresh_token" in body  # section 4.3.3: "optional refresh token"
    stored = await s.stores.tokens.find_access(secrets.digest(str(body["access_token"])))
    assert stored is not None and stored.user_id == USER_ID


async def test_a_wrong_password_is_invalid_grant() -> None:
    s = server(grant_types=ENABLED)
    with pytest.raises(InvalidGrant, match="email or password is wrong"):
        await s.exchange(PASSWORD_REQUEST | {"password": "A3ddj3W"})


def _throttled(s: Server, limit: int) -> None:
    s.stores.authenticator = MemoryAuthenticator(s.stores.users, limit=limit, window=900)
    s.stores.authenticator.set_password(s.user, PASSWORD_REQUEST["password"])
    s.ctx = dataclasses.replace(s.ctx, authenticator=s.stores.authenticator)


async def test_after_too_many_failures_even_the_right_password_is_refused() -> None:
    s = server(grant_types=ENABLED)
    _throttled(s, limit=2)
    for _ in range(2):
        with pytest.raises(InvalidGrant):
            await s.exchange(PASSWORD_REQUEST | {"password": "guess"})
    # INTERFACE.md section 9: a throttled attempt is 429 too_many_requests with Retry-After.
    with pytest.raises(TooManyRequests, match="too many failed sign-ins") as refused:
        await s.exchange(PASSWORD_REQUEST)
    assert refused.value.status_code == 429 and refused.value.retry_after > 0


@pytest.mark.parametrize("missing", ["username", "password"])
async def test_username_and_password_are_required(missing: str) -> None:
    s = server(grant_types=ENABLED)
    with pytest.raises(InvalidRequest, match=f"{missing} is required for grant_type=password"):
        await s.exchange({k: v for k, v in PASSWORD_REQUEST.items() if k != missing})
