"""protocol/revocation.py's and protocol/introspection.py's endpoint functions without HTTP:
RFC 7009 sections 2.1 and 2.2, RFC 7662 sections 2.1 and 2.2, with the token endpoint's
client authentication (RFC 6749 section 3.2.1) and single parameters (section 3.2).

The stores are small in-memory fakes of protocol/ports.py's ClientStore, TokenStore,
UserStore and KeyRing, which record what was asked of them.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from joserfc.jwk import KeySet

from tessera.model import AccessToken, Account, AuditEntry, Client, RefreshToken, User
from tessera.protocol import introspection, revocation, secrets
from tessera.protocol.client_auth import ClientAuthenticationFailed
from tessera.protocol.errors import InvalidClient, InvalidRequest, UnauthorizedClient
from tessera.protocol.ports import LoadedKey, Rotation, TokenRows
from tests.unit.builders import ACCOUNT_ID, ISSUER, SECRET, USER_ID, make_client, make_public_client, make_token

pytestmark = pytest.mark.anyio

ACCOUNT = Account(id=ACCOUNT_ID, subdomain="acme", name="Acme", created_at=1_000.0)
NOW = 2_000.0
ACCESS = "tsa_unit-access-token"
REFRESH = "tsr_unit-refresh-token"
WEB = make_client()  # id 42, acme_web, confidential
SPA = make_public_client()  # id 43, acme_spa
RESOURCE_SERVER = make_client(id=44, identifier="acme_rs", name="Acme RS", introspection=True)
BASIC = "Basic " + base64.b64encode(f"acme_web:{SECRET}".encode()).decode()
EVE = User(USER_ID, ACCOUNT_ID, "eve@example.com", "Eve User", "end-user", "$argon2id$unused", 1_000.0, 1_000.0)


def _refresh(**overrides: Any) -> RefreshToken:
    fields: dict[str, Any] = {
        "id": 9,
        "account_id": ACCOUNT_ID,
        "client_id": WEB.id,
        "user_id": USER_ID,
        "access_token_id": 1,
        "scopes": ("read",),
        "family": "f" * 32,
        "created_at": 1_000.0,
        "expires_at": 10_000.0,
        "used_at": None,
        "revoked_at": None,
    }
    fields.update(overrides)
    return RefreshToken(**fields)


class Clients:
    def __init__(self) -> None:
        self.clients = {c.identifier: c for c in (WEB, SPA, RESOURCE_SERVER)}
        self.lookups = 0

    async def find(self, account_id: int, identifier: str) -> Client | None:
        self.lookups += 1
        return self.clients.get(identifier)

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        self.lookups += 1
        return next((c for c in self.clients.values() if c.id == numeric_id), None)

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        raise AssertionError("not used by these endpoints")


ADDRESS = "203.0.113.5"


class Tokens:
    def __init__(self, access: AccessToken | None = None, refresh: RefreshToken | None = None) -> None:
        self.access = {secrets.digest(ACCESS): access} if access else {}
        self.refresh = {secrets.digest(REFRESH): refresh} if refresh else {}
        self.revoked: list[tuple[str, object]] = []
        self.audit: list[AuditEntry | None] = []

    async def find_access(self, digest: bytes) -> AccessToken | None:
        return self.access.get(digest)

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        return self.refresh.get(digest)

    async def revoke_family(self, family: str, now: float, audit: AuditEntry | None = None) -> int:
        self.revoked.append(("family", family))
        self.audit.append(audit)
        return 2

    async def revoke_access(self, token_id: int, now: float, audit: AuditEntry | None = None) -> int:
        self.revoked.append(("access", token_id))
        self.audit.append(audit)
        return 1

    async def issue(self, tokens: TokenRows) -> int:
        raise AssertionError("not used by these endpoints")

    async def rotate(self, refresh_id: int, now: float, tokens: TokenRows) -> Rotation:
        raise AssertionError("not used by these endpoints")

    async def touch(self, token_id: int, now: float) -> None:
        raise AssertionError("not used by these endpoints")


class Users:
    async def get(self, account_id: int, user_id: int) -> User | None:
        return EVE if (account_id, user_id) == (ACCOUNT_ID, USER_ID) else None

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        return None


class Keys:
    async def signing_key(self, account_id: int, alg: str) -> LoadedKey:
        raise AssertionError("not used by these endpoints")

    async def published(self, account_id: int) -> KeySet:
        return KeySet([])


async def _revoke(
    params: dict[str, str],
    tokens: Tokens,
    clients: Clients | None = None,
    authorization: str | None = BASIC,
    repeated: frozenset[str] = frozenset(),
) -> None:
    await revocation.endpoint(
        params,
        repeated,
        authorization,
        ACCOUNT,
        ISSUER,
        NOW,
        clients=clients or Clients(),
        tokens=tokens,
        keys=Keys(),
        users=Users(),
        ip_address=ADDRESS,
    )


async def _introspect(
    params: dict[str, str],
    tokens: Tokens,
    clients: Clients | None = None,
    authorization: str | None = BASIC,
    repeated: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    return await introspection.endpoint(
        params,
        repeated,
        authorization,
        ACCOUNT,
        ISSUER,
        NOW,
        tokens=tokens,
        clients=clients or Clients(),
        users=Users(),
        keys=Keys(),
    )


# --- shared order: single parameters, then the client --------------------------------------


@pytest.mark.parametrize("endpoint", ["revoke", "introspect"])
async def test_a_repeated_parameter_is_refused_before_the_client_is_looked_up(endpoint: str) -> None:
    """RFC 7009 / RFC 7662 section 2.1 with RFC 6749 section 3.2: parameters "MUST NOT be
    included more than once"; nothing is looked up for such a request."""
    clients = Clients()
    call = _revoke if endpoint == "revoke" else _introspect
    with pytest.raises(InvalidRequest, match="'token' was sent more than once") as caught:
        await call({"token": ACCESS}, Tokens(make_token()), clients, repeated=frozenset({"token"}))
    assert ("RFC 7009" if endpoint == "revoke" else "RFC 7662") in caught.value.description
    assert clients.lookups == 0


@pytest.mark.parametrize("endpoint", ["revoke", "introspect"])
async def test_a_wrong_secret_is_invalid_client_with_basic_remembered(endpoint: str) -> None:
    """RFC 6749 section 5.2: invalid_client, answered with a Basic challenge when Basic was used."""
    wrong = "Basic " + base64.b64encode(b"acme_web:tss_wrong").decode()
    call = _revoke if endpoint == "revoke" else _introspect
    with pytest.raises(ClientAuthenticationFailed) as caught:
        await call({"token": ACCESS}, Tokens(make_token()), authorization=wrong)
    assert caught.value.used_basic


@pytest.mark.parametrize("endpoint", ["revoke", "introspect"])
async def test_a_numeric_client_id_is_told_to_send_the_identifier(endpoint: str) -> None:
    """INTERFACE.md "Lessons from the field": the numeric id names the identifier to send instead."""
    call = _revoke if endpoint == "revoke" else _introspect
    with pytest.raises(ClientAuthenticationFailed, match="acme_web"):
        await call({"token": ACCESS, "client_id": "42", "client_secret": SECRET}, Tokens(), authorization=None)


# --- revocation: RFC 7009 ------------------------------------------------------------------


async def test_revoking_an_access_token_revokes_that_token_alone() -> None:
    tokens = Tokens(access=make_token())
    await _revoke({"token": ACCESS}, tokens)
    assert tokens.revoked == [("access", 1)]
    # INTERFACE.md section 6: "token revoked" is audited, as the token's user, from the caller's address.
    (entry,) = tokens.audit
    assert entry is not None
    assert (entry.action, entry.source_type, entry.actor_id, entry.ip_address) == (
        "revoke",
        "oauth_token",
        USER_ID,
        ADDRESS,
    )
    assert ACCESS not in repr(entry)


async def test_revoking_a_refresh_token_revokes_its_family() -> None:
    """Section 2.1: the server "SHOULD also invalidate all access tokens based on the same
    authorization grant"."""
    tokens = Tokens(refresh=_refresh())
    await _revoke({"token": REFRESH, "token_type_hint": "refresh_token"}, tokens)
    assert tokens.revoked == [("family", "f" * 32)]


async def test_an_unknown_token_is_answered_without_error() -> None:
    """Section 2.2: "invalid tokens do not cause an error response"."""
    tokens = Tokens()
    await _revoke({"token": "tsa_never-issued"}, tokens)
    assert tokens.revoked == []


async def test_another_clients_token_is_refused() -> None:
    """Section 2.1: the server "verifies whether the token was issued to the client making
    the revocation request. If this validation fails, the request is refused"."""
    tokens = Tokens(access=make_token(client_id=SPA.id))
    with pytest.raises(UnauthorizedClient):
        await _revoke({"token": ACCESS}, tokens)
    assert tokens.revoked == []


async def test_revocation_needs_the_token_parameter() -> None:
    with pytest.raises(InvalidRequest, match="token is required"):
        await _revoke({}, Tokens())


# --- introspection: RFC 7662 ---------------------------------------------------------------


async def test_an_active_token_of_the_caller_is_described() -> None:
    """Section 2.2: active, with the token's scope, client, user, times, type and issuer;
    aud is the account's API, the default resource (RFC 8707, INTERFACE.md section 8)."""
    body = await _introspect({"token": ACCESS}, Tokens(access=make_token(scopes=("read", "tickets:write"))))
    assert body == {
        "active": True,
        "scope": "read tickets:write",
        "client_id": "acme_web",
        "username": "eve@example.com",
        "sub": "3",
        "iat": 1000,
        "exp": 2800,
        "token_type": "bearer",
        "aud": ISSUER + "/api/v2",
        "iss": ISSUER,
    }


async def test_another_clients_token_is_inactive_to_the_caller() -> None:
    """Section 2.2: a token the caller may not see is answered with {"active": false} alone."""
    assert await _introspect({"token": ACCESS}, Tokens(access=make_token(client_id=SPA.id))) == {"active": False}


async def test_a_resource_server_sees_any_token_of_its_account() -> None:
    """INTERFACE.md section 4: a client created with --introspection may introspect any token."""
    rs_basic = "Basic " + base64.b64encode(f"acme_rs:{SECRET}".encode()).decode()
    body = await _introspect({"token": ACCESS}, Tokens(access=make_token()), authorization=rs_basic)
    assert body["active"] is True
    assert body["client_id"] == "acme_web"


@pytest.mark.parametrize("token", [make_token(revoked_at=1_500.0), make_token(expires_at=NOW)])
async def test_a_revoked_or_expired_token_is_inactive(token: AccessToken) -> None:
    assert await _introspect({"token": ACCESS}, Tokens(access=token)) == {"active": False}


async def test_a_public_client_may_not_introspect() -> None:
    """Section 2.1: the endpoint "MUST require some form of authorization"; a public client
    proves nothing about itself."""
    with pytest.raises(InvalidClient, match="confidential"):
        await _introspect({"token": ACCESS, "client_id": "acme_spa"}, Tokens(access=make_token()), authorization=None)
