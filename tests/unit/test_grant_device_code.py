"""The device authorization grant on the in-memory ports: protocol/device_authorization.py
(RFC 8628 sections 3.1, 3.2, 5.1, 6.1) and protocol/grants/device_code.py through the token
endpoint (sections 3.4, 3.5; INTERFACE.md section 7).

Values are RFC 8628's own examples: the device code GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS
and the user code WDJB-MJHT of section 3.2.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

import pytest

from tessera.model import DEVICE_ALLOWED
from tessera.protocol import device_authorization, secrets
from tessera.protocol.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    SlowDown,
    UnauthorizedClient,
)
from tessera.protocol.ports import NewDeviceCode
from tests.unit.builders import ACCOUNT_ID, ISSUER, USER_ID
from tests.unit.memory_server import ACCOUNT, NOW, RFC_CLIENT, Server, server, sha256

pytestmark = pytest.mark.anyio

DEVICE_CODE = "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"  # RFC 8628 section 3.2
USER_CODE = "WDJBMJHT"  # section 3.2's WDJB-MJHT, as stored
GRANT = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": DEVICE_CODE}
DEVICE_GRANTS = frozenset({"device_code", "refresh_token"})


async def with_device_code(s: Server, *, scopes: tuple[str, ...] = ("read",), client_id: int | None = None) -> int:
    code_id = await s.stores.device_codes.create(
        NewDeviceCode(
            digest=sha256(DEVICE_CODE),
            user_code=USER_CODE,
            account_id=ACCOUNT_ID,
            client_id=s.client.id if client_id is None else client_id,
            scopes=scopes,
            created_at=NOW - 10,
            expires_at=NOW + 590,
            interval=5,
        )
    )
    assert code_id is not None
    return code_id


# --- user codes (sections 5.1 and 6.1) -----------------------------------------------------------


def test_user_codes_are_eight_consonants_from_the_rfc_alphabet() -> None:
    """RFC 8628 section 6.1's example charset BCDFGHJKLMNPQRSTVWXZ, 8 characters (34 bits)."""
    drawn = [secrets.new_user_code() for _ in range(2000)]
    assert all(re.fullmatch("[BCDFGHJKLMNPQRSTVWXZ]{8}", code) for code in drawn)
    letters = Counter("".join(drawn))
    assert set(letters) == set("BCDFGHJKLMNPQRSTVWXZ")  # every letter turns up in 16,000 draws
    assert len(set(drawn)) == len(drawn)


@pytest.mark.parametrize(
    "typed",
    [
        *("WDJB-MJHT", "wdjb-mjht", "WDJBMJHT", " wdjb mjht ", "Wdjb–Mjht", "WD-JB MJ-HT"),
        # What phones and pastes put in: an em dash, a minus sign, no-break, thin and
        # ideographic spaces, full-width letters (a Japanese keyboard's).
        *("WDJB\u2014MJHT", "WDJB\u2212MJHT", "WDJB\u00a0MJHT", "WDJB\u2009MJHT", "WDJB\u3000MJHT"),
        "\uff37\uff24\uff2a\uff22\uff0d\uff2d\uff2a\uff28\uff34",
    ],
)
def test_a_user_code_is_matched_without_regard_to_case_dashes_or_spaces(typed: str) -> None:
    """INTERFACE.md section 7; RFC 8628 section 6.1 ("case-insensitive", punctuation ignored)."""
    assert device_authorization.normalise_user_code(typed) == USER_CODE


@pytest.mark.parametrize("typed", ["", "WDJB-MJH", "WDJB-MJHTT", "WDJB-MJH0", "AEIO-UWDJ", "WDJB_MJHT"])
def test_what_cannot_be_a_user_code_is_none(typed: str) -> None:
    assert device_authorization.normalise_user_code(typed) is None


def test_a_user_code_is_shown_in_two_groups_of_four() -> None:
    """INTERFACE.md section 7: "shown as XXXX-XXXX"."""
    assert device_authorization.display_user_code(USER_CODE) == "WDJB-MJHT"


# --- the device authorization request (sections 3.1 and 3.2) --------------------------------------


async def _authorize(
    s: Server, params: dict[str, str], authorization: str | None = RFC_CLIENT["authorization"]
) -> dict[str, Any]:
    return await device_authorization.authorize_device(
        params, frozenset(), authorization, ACCOUNT, ISSUER, NOW, s.stores.clients, s.stores.device_codes
    )


async def test_the_response_holds_the_codes_the_uris_the_lifetime_and_the_interval() -> None:
    """RFC 8628 section 3.2; INTERFACE.md section 7."""
    s = server(grant_types=DEVICE_GRANTS)
    body = await _authorize(s, {"scope": "read"})
    assert body["device_code"].startswith("tsd_")
    assert re.fullmatch("[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", body["user_code"])
    assert body["verification_uri"] == ISSUER + "/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={body['user_code']}"
    assert (body["expires_in"], body["interval"]) == (600, 5)
    stored = await s.stores.device_codes.find(secrets.digest(body["device_code"]))
    assert stored is not None and stored.user_code == body["user_code"].replace("-", "")
    assert (stored.expires_at, stored.scopes, stored.client_id) == (NOW + 600, ("read",), s.client.id)


async def test_a_taken_user_code_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Section 6.1: user codes must not collide; a clash draws another."""
    s = server(grant_types=DEVICE_GRANTS)
    await with_device_code(s)
    draws = iter([USER_CODE, USER_CODE, "BCDFGHJK"])
    monkeypatch.setattr(secrets, "new_user_code", lambda: next(draws))
    assert (await _authorize(s, {"scope": "read"}))["user_code"] == "BCDF-GHJK"


async def test_a_client_without_the_grant_is_unauthorized_client() -> None:
    """RFC 6749 section 5.2 unauthorized_client, as section 3.2 of RFC 8628 refers to it."""
    with pytest.raises(UnauthorizedClient, match="device_code"):
        await _authorize(server(), {"scope": "read"})


async def test_a_confidential_client_is_authenticated() -> None:
    """Section 3.1: "the client MUST authenticate" when it is confidential."""
    s = server(grant_types=DEVICE_GRANTS)
    with pytest.raises(InvalidClient):
        await _authorize(s, {"scope": "read", "client_id": RFC_CLIENT["client_id"]}, authorization=None)


async def test_a_scope_outside_the_clients_allowed_scopes_is_invalid_scope() -> None:
    """Section 3.1 scope, as RFC 6749 section 3.3."""
    with pytest.raises(InvalidScope):
        await _authorize(server(grant_types=DEVICE_GRANTS), {"scope": "impersonate"})


# --- the token endpoint (sections 3.4 and 3.5) ----------------------------------------------------


async def test_pending_then_slow_down_then_pending_again_on_the_longer_interval() -> None:
    """Section 3.5: authorization_pending; slow_down adds 5 seconds "for this and all
    subsequent requests"."""
    s = server(grant_types=DEVICE_GRANTS)
    await with_device_code(s)
    with pytest.raises(AuthorizationPending):
        await s.exchange(GRANT, now=NOW)
    with pytest.raises(SlowDown, match="10 seconds"):
        await s.exchange(GRANT, now=NOW + 1)
    with pytest.raises(SlowDown, match="15 seconds"):
        await s.exchange(GRANT, now=NOW + 1 + 9)
    with pytest.raises(AuthorizationPending, match="15 seconds"):
        await s.exchange(GRANT, now=NOW + 1 + 9 + 15)


async def test_allowed_gives_the_token_response_with_refresh_token_and_id_token_once() -> None:
    """Section 3.5 and INTERFACE.md section 7: the usual token response; used once."""
    s = server(grant_types=DEVICE_GRANTS)
    code_id = await with_device_code(s, scopes=("read", "openid"))
    assert await s.stores.device_codes.decide(code_id, USER_ID, NOW - 100, True, NOW)
    body = await s.exchange(GRANT)
    assert body["token_type"] == "bearer" and body["scope"] == "read openid"
    assert "refresh_token" in body and "id_token" in body
    stored = await s.stores.tokens.find_access(secrets.digest(str(body["access_token"])))
    assert stored is not None and stored.user_id == USER_ID
    with pytest.raises(InvalidGrant, match="already used"):
        await s.exchange(GRANT, now=NOW + 5)


async def test_denied_is_access_denied_with_status_400() -> None:
    """Section 3.5 access_denied, a token endpoint error: 400 as RFC 6749 section 5.2."""
    s = server(grant_types=DEVICE_GRANTS)
    code_id = await with_device_code(s)
    assert await s.stores.device_codes.decide(code_id, USER_ID, NOW, False, NOW)
    with pytest.raises(DeviceAccessDenied) as denied:
        await s.exchange(GRANT)
    assert (denied.value.error, denied.value.status_code) == ("access_denied", 400)


async def test_expired_is_expired_token() -> None:
    """Section 3.5 expired_token, even once allowed."""
    s = server(grant_types=DEVICE_GRANTS)
    code_id = await with_device_code(s)
    assert await s.stores.device_codes.decide(code_id, USER_ID, NOW, True, NOW)
    with pytest.raises(ExpiredToken, match="live 600 seconds"):
        await s.exchange(GRANT, now=NOW + 590)


async def test_unknown_and_another_clients_codes_are_invalid_grant() -> None:
    """RFC 6749 section 5.2 invalid_grant, as section 3.5 of RFC 8628 keeps it."""
    s = server(grant_types=DEVICE_GRANTS)
    with pytest.raises(InvalidGrant, match="not valid here"):
        await s.exchange(GRANT)
    await with_device_code(s, client_id=s.client.id + 1)
    with pytest.raises(InvalidGrant, match="another client"):
        await s.exchange(GRANT)


async def test_a_suspended_user_gets_no_tokens() -> None:
    """INTERFACE.md section 6: a suspended user's grants issue nothing."""
    s = server(grant_types=DEVICE_GRANTS)
    code_id = await with_device_code(s)
    assert await s.stores.device_codes.decide(code_id, USER_ID, NOW, True, NOW)
    s.stores.users.add(dataclasses.replace(s.user, suspended_at=NOW - 1))
    with pytest.raises(InvalidGrant, match="suspended"):
        await s.exchange(GRANT)
    found = await s.stores.device_codes.find(sha256(DEVICE_CODE))
    assert found is not None and found.status == DEVICE_ALLOWED and found.used_at is None
