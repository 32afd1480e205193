"""Every port of tessera/protocol/ports.py in process memory, for the protocol's unit tests.

Same semantics as the SQL stores, as the port docstrings state them; tests/storage/
test_contract.py runs its port-level tests against these too. Atomicity comes from the
event loop: no method awaits between reading a row and changing it, so of concurrent
`redeem` or `rotate` calls exactly one claims, as the conditional UPDATE does in SQL.

Not for serving: nothing survives the process, and nodes would not share it (DESIGN.md,
"Scale beyond one machine"). No SQLAlchemy here, so a unit test imports none.

The stores are in modules by what they keep (directory, tokens, sign_in, keys,
single_use); this one assembles them, as storage/stores.py assembles the SQL ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tessera.protocol import ports
from tessera.storage.memory.directory import (
    MemoryClientStore,
    MemoryConsentStore,
    MemoryResourceStore,
    MemoryUserStore,
)
from tessera.storage.memory.keys import MemoryKeyRing
from tessera.storage.memory.sign_in import MemoryAuthenticator
from tessera.storage.memory.single_use import MemoryPushedRequestStore, MemoryUsedOnceStore
from tessera.storage.memory.tokens import MemoryCodeStore, MemoryDeviceCodeStore, MemoryTokenStore


@dataclass
class MemoryStores:
    """Every port, over one process's memory; the code store writes into the token store."""

    clients: MemoryClientStore = field(default_factory=MemoryClientStore)
    users: MemoryUserStore = field(default_factory=MemoryUserStore)
    consents: MemoryConsentStore = field(default_factory=MemoryConsentStore)
    tokens: MemoryTokenStore = field(default_factory=MemoryTokenStore)
    keys: MemoryKeyRing = field(default_factory=MemoryKeyRing)
    resources: MemoryResourceStore = field(default_factory=MemoryResourceStore)
    used_once: MemoryUsedOnceStore = field(default_factory=MemoryUsedOnceStore)
    pushed_requests: MemoryPushedRequestStore = field(default_factory=MemoryPushedRequestStore)
    codes: MemoryCodeStore = field(init=False)
    device_codes: MemoryDeviceCodeStore = field(init=False)
    authenticator: MemoryAuthenticator = field(init=False)

    def __post_init__(self) -> None:
        self.codes = MemoryCodeStore(self.tokens)
        self.device_codes = MemoryDeviceCodeStore(self.tokens)
        self.authenticator = MemoryAuthenticator(self.users)


def _conforms(stores: MemoryStores) -> None:
    """Never called: mypy checks here that every memory store keeps its port's signatures."""
    clients: ports.ClientStore = stores.clients
    users: ports.UserStore = stores.users
    codes: ports.CodeStore = stores.codes
    device_codes: ports.DeviceCodeStore = stores.device_codes
    tokens: ports.TokenStore = stores.tokens
    authenticator: ports.Authenticator = stores.authenticator
    keys: ports.KeyRing = stores.keys
    resources: ports.ResourceStore = stores.resources
    used_once: ports.UsedOnceStore = stores.used_once
    pushed_requests: ports.PushedRequestStore = stores.pushed_requests
    del clients, users, codes, device_codes, tokens, authenticator, keys, resources, used_once, pushed_requests
