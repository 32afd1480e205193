"""protocol/token_endpoint.py: which error wins when several things are wrong (RFC 6749 sections
3.2, 3.2.1, 5.2). The order it implements: parameters single -> client authenticated ->
grant_type present -> grant_type known -> client allowed the grant -> the grant's own checks.
Each test breaks two adjacent stages at once and checks that the earlier one answers.
"""

from __future__ import annotations

import pytest

from tessera.protocol.client_auth import ClientAuthenticationFailed
from tessera.protocol.errors import InvalidGrant, InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from tests.unit.memory_server import ACCESS_TOKEN, CODE_REQUEST, NOW, REFRESH_REQUEST, RFC_CLIENT, server, sha256

pytestmark = pytest.mark.anyio

# A client allowed offline_access: only such a client is ever granted it.
OFFLINE = ("read", "write", "offline_access")

# RFC 6749 section 2.3.1's client with the wrong secret: base64("s6BhdRkqt3:wrong"), by hand.
WRONG_SECRET = "Basic czZCaGRSa3F0Mzp3cm9uZw=="


async def test_the_rfc_client_authenticates_with_section_2_3_1_basic_credentials() -> None:
    s = server()
    await s.add_code()
    assert "access_token" in await s.exchange(CODE_REQUEST, authorization=RFC_CLIENT["authorization"])


async def test_a_repeated_parameter_wins_over_failed_client_authentication() -> None:
    """Section 3.2: "Request and response parameters MUST NOT be included more than once"."""
    s = server()
    with pytest.raises(InvalidRequest, match="'code' was sent more than once"):
        await s.exchange(CODE_REQUEST, authorization=WRONG_SECRET, repeated=frozenset({"code"}))


async def test_client_authentication_wins_over_a_missing_grant_type() -> None:
    s = server()
    with pytest.raises(ClientAuthenticationFailed, match="client_secret is wrong") as failed:
        await s.exchange({}, authorization=WRONG_SECRET)
    assert failed.value.used_basic  # the web layer answers 401 with a Basic challenge


async def test_an_unknown_client_wins_over_an_unsupported_grant_type() -> None:
    s = server()
    with pytest.raises(ClientAuthenticationFailed, match="no client with identifier 'nobody'"):
        await s.exchange({"grant_type": "magic", "client_id": "nobody"}, authorization=None)


async def test_failed_client_authentication_tells_nothing_about_a_replayed_code_and_revokes_nothing() -> None:
    """Client authentication comes before anything that could tell a caller about a code."""
    s = server()
    await s.add_code()
    await s.add_refresh_token()  # a token of the code's family
    await s.exchange(CODE_REQUEST)
    with pytest.raises(ClientAuthenticationFailed):
        await s.exchange(CODE_REQUEST, authorization=WRONG_SECRET, now=NOW + 5)
    previous = await s.stores.tokens.find_access(sha256(ACCESS_TOKEN))
    assert previous is not None and previous.revoked_at is None


async def test_a_missing_grant_type_is_invalid_request_after_authentication() -> None:
    s = server()
    with pytest.raises(InvalidRequest, match="grant_type is required"):
        await s.exchange({"code": CODE_REQUEST["code"]})


async def test_an_unknown_grant_type_wins_over_the_clients_grants() -> None:
    s = server(grant_types=frozenset({"authorization_code"}))
    with pytest.raises(UnsupportedGrantType, match="'implicit' is not supported"):
        await s.exchange({"grant_type": "implicit"})


async def test_a_grant_the_client_is_not_allowed_wins_over_the_grants_own_checks() -> None:
    """A bogus code would be invalid_grant; the client may not use the grant at all."""
    s = server(grant_types=frozenset({"client_credentials"}))
    with pytest.raises(UnauthorizedClient, match="not allowed the authorization_code grant"):
        await s.exchange(CODE_REQUEST)


async def test_the_grants_own_checks_come_last() -> None:
    s = server()
    with pytest.raises(InvalidGrant, match="not valid here"):
        await s.exchange(CODE_REQUEST)


async def test_refresh_token_is_not_gated_by_the_clients_grants_but_by_the_grant() -> None:
    """GRANTS names no required grant for refresh_token: offline_access tokens refresh too."""
    s = server(grant_types=frozenset({"authorization_code"}), allowed_scopes=OFFLINE)
    await s.add_refresh_token(scopes=("read", "offline_access"))
    assert "access_token" in await s.exchange(REFRESH_REQUEST)
    s = server(grant_types=frozenset({"authorization_code"}))
    await s.add_refresh_token(scopes=("read",))
    with pytest.raises(UnauthorizedClient, match="not allowed the refresh_token grant"):
        await s.exchange(REFRESH_REQUEST)
