"""protocol/grants/authorization_code.py: RFC 6749 sections 4.1.3, 4.1.4 and 10.5; RFC 7636
section 4.6 (Appendix B's example); INTERFACE.md section 4 "Single use and rotation"."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tessera.model import AuthorizationCode
from tessera.protocol import secrets
from tessera.protocol.errors import InvalidGrant
from tessera.protocol.grants import authorization_code
from tessera.storage.memory.tokens import MemoryCodeStore
from tests.unit.memory_server import ACCESS_TOKEN, CODE_REQUEST, FAMILY, NOW, PKCE, Server, server, sha256

pytestmark = pytest.mark.anyio

# A client allowed offline_access: only such a client is ever granted it.
OFFLINE = ("read", "write", "offline_access")


async def _redeem(s: Server, params: dict[str, str], *, now: float = NOW) -> dict[str, object]:
    return await authorization_code.handle(s.request(params, now=now), s.ctx)


async def test_rfc6749_section_4_1_3_request_gets_tokens_and_uses_the_code() -> None:
    s = server()
    await s.add_code()
    body = await _redeem(s, CODE_REQUEST)
    assert body["token_type"] == "bearer" and body["expires_in"] == 1_800 and body["scope"] == "read"
    assert str(body["access_token"]).startswith("tsa_") and str(body["refresh_token"]).startswith("tsr_")
    code = await s.stores.codes.find(sha256(CODE_REQUEST["code"]))
    assert code is not None and code.used_at == NOW
    issued = await s.stores.tokens.find_refresh(_digest(str(body["refresh_token"])))
    assert issued is not None and issued.family == FAMILY and issued.user_id == s.user.id


def _digest(token: str) -> bytes:
    return secrets.digest(token)  # where an issued Tessera token is stored (time-led SHA-256)


async def test_no_refresh_token_for_a_client_without_the_grant_unless_offline_access() -> None:
    s = server(grant_types=frozenset({"authorization_code"}))
    await s.add_code()
    assert "refresh_token" not in await _redeem(s, CODE_REQUEST)
    s = server(grant_types=frozenset({"authorization_code"}), allowed_scopes=OFFLINE)
    await s.add_code(scopes=("read", "offline_access"))
    assert "refresh_token" in await _redeem(s, CODE_REQUEST)


# --- PKCE, RFC 7636 Appendix B -------------------------------------------------------------------


async def test_appendix_b_verifier_redeems_a_code_with_its_challenge() -> None:
    s = server()
    await s.add_code(challenge=PKCE["code_challenge"])
    body = await _redeem(s, CODE_REQUEST | {"code_verifier": PKCE["code_verifier"]})
    assert "access_token" in body


async def test_a_verifier_that_does_not_match_the_challenge_is_invalid_grant() -> None:
    s = server()
    await s.add_code(challenge=PKCE["code_challenge"])
    wrong = PKCE["code_verifier"][:-1] + "A"  # 43 allowed characters, another hash
    with pytest.raises(InvalidGrant, match="does not match the code_challenge"):
        await _redeem(s, CODE_REQUEST | {"code_verifier": wrong})
    # A refused attempt does not use the code up: the right verifier still works.
    assert "access_token" in await _redeem(s, CODE_REQUEST | {"code_verifier": PKCE["code_verifier"]})


async def test_a_code_with_a_challenge_needs_the_verifier() -> None:
    s = server()
    await s.add_code(challenge=PKCE["code_challenge"])
    with pytest.raises(InvalidGrant, match="code_verifier is required"):
        await _redeem(s, CODE_REQUEST)


async def test_a_verifier_for_a_code_without_a_challenge_is_refused() -> None:
    """RFC 9700 section 2.1.1: the PKCE downgrade attack."""
    s = server()
    await s.add_code()
    with pytest.raises(InvalidGrant, match="carried no code_challenge"):
        await _redeem(s, CODE_REQUEST | {"code_verifier": PKCE["code_verifier"]})


# --- Single use ----------------------------------------------------------------------------------


async def test_a_replayed_code_is_refused_and_revokes_every_token_issued_from_it() -> None:
    """RFC 6749 section 4.1.2: the server "SHOULD revoke ... all tokens previously issued based on
    that authorization code"; INTERFACE.md: any later presentation revokes them."""
    s = server()
    await s.add_code()
    first = await _redeem(s, CODE_REQUEST)
    access_digest, refresh_digest = _digest(str(first["access_token"])), _digest(str(first["refresh_token"]))
    with pytest.raises(InvalidGrant, match=r"already used.*revoked"):
        await _redeem(s, CODE_REQUEST, now=NOW + 30)
    assert (await s.stores.tokens.find_access(access_digest)).revoked_at == NOW + 30  # type: ignore[union-attr]
    assert (await s.stores.tokens.find_refresh(refresh_digest)).revoked_at == NOW + 30  # type: ignore[union-attr]


async def test_a_replay_also_revokes_tokens_refreshed_from_the_code() -> None:
    """The family is everything descended from the authorization, refreshes included."""
    s = server()
    await s.add_code()
    await s.add_refresh_token()  # a descendant of the same family, as a refresh would leave it
    await _redeem(s, CODE_REQUEST)
    with pytest.raises(InvalidGrant):
        await _redeem(s, CODE_REQUEST, now=NOW + 1)
    assert (await s.stores.tokens.find_access(sha256(ACCESS_TOKEN))).revoked_at == NOW + 1  # type: ignore[union-attr]


class _FindsThenYields(MemoryCodeStore):
    """Lets another request run between finding the code and redeeming it, as a database would."""

    async def find(self, digest: bytes) -> AuthorizationCode | None:
        code = await super().find(digest)
        await asyncio.sleep(0)
        return code


async def test_of_two_concurrent_redemptions_one_wins_and_keeps_its_tokens() -> None:
    s = server()
    slow = _FindsThenYields(s.stores.tokens)
    s.stores.codes = slow
    s.ctx = dataclasses.replace(s.ctx, codes=slow)
    await s.add_code()
    results = await asyncio.gather(_redeem(s, CODE_REQUEST), _redeem(s, CODE_REQUEST), return_exceptions=True)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, InvalidGrant)]
    assert len(winners) == 1 and len(losers) == 1
    assert "redeemed by another request at the same moment" in losers[0].description
    kept = await s.stores.tokens.find_access(_digest(str(winners[0]["access_token"])))
    assert kept is not None and kept.revoked_at is None  # losing a race is not a replay


# --- The code's other checks ---------------------------------------------------------------------


async def test_an_expired_code_is_refused_at_its_expiry_time() -> None:
    s = server()
    await s.add_code(expires_at=NOW)
    with pytest.raises(InvalidGrant, match="expired 0 seconds ago"):
        await _redeem(s, CODE_REQUEST)


async def test_a_code_of_another_client_or_account_is_refused_and_not_used_up() -> None:
    s = server()
    await s.add_code(client_id=s.client.id + 1)
    with pytest.raises(InvalidGrant, match="issued to another client"):
        await _redeem(s, CODE_REQUEST)
    code = await s.stores.codes.find(sha256(CODE_REQUEST["code"]))
    assert code is not None and code.used_at is None
    s = server()
    await s.add_code(account_id=s.client.account_id + 1)  # type: ignore[operator]
    with pytest.raises(InvalidGrant, match="not valid here"):
        await _redeem(s, CODE_REQUEST)


async def test_an_unknown_code_is_invalid_grant() -> None:
    s = server()
    with pytest.raises(InvalidGrant, match="not valid here"):
        await _redeem(s, CODE_REQUEST)


async def test_redirect_uri_must_repeat_the_authorization_requests_exactly() -> None:
    """Section 4.1.3: "if the redirect_uri parameter was included ... their values MUST be identical"."""
    s = server()
    await s.add_code()
    with pytest.raises(InvalidGrant, match="redirect_uri is required"):
        await _redeem(s, {k: v for k, v in CODE_REQUEST.items() if k != "redirect_uri"})
    with pytest.raises(InvalidGrant, match="differs from the one in the authorization request"):
        await _redeem(s, CODE_REQUEST | {"redirect_uri": CODE_REQUEST["redirect_uri"] + "/"})
