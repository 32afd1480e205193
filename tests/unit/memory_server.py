"""A token endpoint over the in-memory ports (tessera/storage/memory/), for grant unit tests.

The client is RFC 6749 section 2.3.1's (s6BhdRkqt3 / gX1fBat3bV) and the values presented
are the RFC's own examples (tests/vectors/rfc6749_token_requests.json, RFC 7636 Appendix B).
Stored digests are computed here with hashlib, not by the code under test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tessera.model import Account, Client, User
from tessera.protocol import token_endpoint
from tessera.protocol.grants.context import GrantContext, TokenRequest
from tessera.protocol.ports import NewAccessToken, NewCode, NewRefreshToken, TokenRows
from tessera.storage.memory import MemoryStores
from tests.unit.builders import ACCOUNT_ID, ISSUER, USER_ID, make_client, vector

REQUESTS = vector("rfc6749_token_requests")
RFC_CLIENT = REQUESTS["client"]
CODE_REQUEST: dict[str, str] = REQUESTS["authorization_code"]["body"]
REFRESH_REQUEST: dict[str, str] = REQUESTS["refresh_token"]["body"]
PASSWORD_REQUEST: dict[str, str] = REQUESTS["password"]["body"]
CLIENT_CREDENTIALS_REQUEST: dict[str, str] = REQUESTS["client_credentials"]["body"]
PKCE = vector("rfc7636_appendix_b")
# RFC 6749 section 5.1's example access token: the one a refresh token below came with.
ACCESS_TOKEN = vector("rfc6749_examples")["token_response"]["body"]["access_token"]

NOW = 10_000.0
FAMILY = "0" * 32
ACCOUNT = Account(id=ACCOUNT_ID, subdomain="acme", name="Acme", created_at=1_000.0)


def sha256(value: str) -> bytes:
    """The digest a presented value is stored under (plain SHA-256 for a non-Tessera value)."""
    return hashlib.sha256(value.encode()).digest()


def rfc_client(**overrides: Any) -> Client:
    fields: dict[str, Any] = {
        "identifier": RFC_CLIENT["client_id"],
        "redirect_uris": (CODE_REQUEST["redirect_uri"],),
        "secret_hash": bytes.fromhex(RFC_CLIENT["client_secret_sha256_hex"]),
        "secret_prefix": RFC_CLIENT["client_secret"][:9],
        # What a request without `scope` gets (RFC 6749 section 3.3's "pre-defined default").
        "allowed_scopes": ("read", "write"),
    }
    fields.update(overrides)
    return make_client(**fields)


@dataclass
class Server:
    stores: MemoryStores
    ctx: GrantContext
    client: Client
    user: User

    def request(self, params: Mapping[str, str], *, now: float = NOW, client: Client | None = None) -> TokenRequest:
        return TokenRequest(params=params, client=client or self.client, account=ACCOUNT, issuer=ISSUER, now=now)

    async def exchange(
        self,
        params: Mapping[str, str],
        *,
        authorization: str | None = RFC_CLIENT["authorization"],
        repeated: frozenset[str] = frozenset(),
        now: float = NOW,
    ) -> dict[str, Any]:
        """The whole token endpoint: client authentication, grant dispatch, the grant."""
        return await token_endpoint.exchange(params, repeated, authorization, ACCOUNT, ISSUER, now, self.ctx)

    async def add_code(
        self,
        *,
        code: str = CODE_REQUEST["code"],
        redirect_uri: str = CODE_REQUEST["redirect_uri"],
        challenge: str = "",
        scopes: tuple[str, ...] = ("read",),
        client_id: int | None = None,
        account_id: int = ACCOUNT_ID,
        expires_at: float = NOW + 300,
        audience: tuple[str, ...] = (),
    ) -> int:
        return await self.stores.codes.create(
            NewCode(
                digest=sha256(code),
                account_id=account_id,
                client_id=self.client.id if client_id is None else client_id,
                user_id=self.user.id,
                redirect_uri=redirect_uri,
                scopes=scopes,
                code_challenge=challenge,
                nonce="",
                family=FAMILY,
                auth_time=NOW - 60,
                created_at=NOW - 60,
                expires_at=expires_at,
                audience=audience,
            )
        )

    async def add_refresh_token(
        self,
        *,
        scopes: tuple[str, ...] = ("read",),
        refresh_scopes: tuple[str, ...] | None = None,
        client_id: int | None = None,
        expires_at: float = NOW + 86_400,
        audience: tuple[str, ...] = (),
    ) -> None:
        """RFC 6749 section 6's refresh token, issued at NOW - 100 with section 5.1's access token."""
        await self.stores.tokens.issue(
            TokenRows(
                access=NewAccessToken(
                    digest=sha256(ACCESS_TOKEN),
                    token_prefix=ACCESS_TOKEN[:10],
                    account_id=ACCOUNT_ID,
                    client_id=self.client.id if client_id is None else client_id,
                    user_id=self.user.id,
                    scopes=scopes,
                    family=FAMILY,
                    created_at=NOW - 100,
                    expires_at=NOW + 1_700,
                    audience=audience,
                ),
                refresh=NewRefreshToken(sha256(REFRESH_REQUEST["refresh_token"]), expires_at, refresh_scopes),
            )
        )


def server(*, grace: int = 10, **client_overrides: Any) -> Server:
    """An account with RFC 6749's client and user johndoe (password A3ddj3w, section 4.3.2)."""
    stores = MemoryStores()
    client = stores.clients.add(rfc_client(**client_overrides))
    user = stores.users.add(
        User(USER_ID, ACCOUNT_ID, PASSWORD_REQUEST["username"], "John Doe", "end-user", "", 1_000.0, 1_000.0)
    )
    stores.authenticator.set_password(user, PASSWORD_REQUEST["password"])
    ctx = GrantContext(
        clients=stores.clients,
        users=stores.users,
        codes=stores.codes,
        device_codes=stores.device_codes,
        tokens=stores.tokens,
        authenticator=stores.authenticator,
        keys=stores.keys,
        code_lifetime=300,
        refresh_reuse_grace=grace,
        resources=stores.resources,
        clock=lambda: NOW,  # the requests' own time: each test says when its requests arrive
    )
    return Server(stores=stores, ctx=ctx, client=client, user=user)
