"""What a grant handler receives: the request, and the stores and settings of the server."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tessera.model import Account, Client
from tessera.protocol.errors import InvalidRequest
from tessera.protocol.ports import (
    Authenticator,
    ClientDocuments,
    ClientStore,
    CodeStore,
    DeviceCodeStore,
    KeyRing,
    ResourceStore,
    TokenStore,
    UsedOnceStore,
    UserStore,
)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    params: Mapping[str, str]
    client: Client  # authenticated
    account: Account
    issuer: str
    now: float
    ip_address: str | None = None  # the caller's, for the audit log (a replay, a password sign-in)
    dpop_jkt: str | None = None  # RFC 9449 section 5: the key the issued tokens are bound to

    def required(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise InvalidRequest(f"{name} is required for grant_type={self.params.get('grant_type')}")
        return value


@dataclass(frozen=True, slots=True)
class GrantContext:
    clients: ClientStore
    users: UserStore
    codes: CodeStore
    device_codes: DeviceCodeStore
    tokens: TokenStore
    authenticator: Authenticator
    keys: KeyRing
    code_lifetime: int
    refresh_reuse_grace: int
    resources: ResourceStore  # asked only when a request names a resource (RFC 8707)
    # Resolves client_ids that are metadata document URLs; None: such client_ids are unknown.
    documents: ClientDocuments | None = None
    # Where client assertion jtis are claimed (private_key_jwt); None: assertions refused.
    used_once: UsedOnceStore | None = None
    # The time now, read again where a grant needs the moment of its write rather than of
    # the request's arrival (authorization_code.py: when a code was used).
    clock: Callable[[], float] = time.time
