"""`tessera serve` checks at start that its secret key opens the signing keys stored
(key_ring.check_secret_key, storage/keys.newest_sealed), on both engines: a node started
with another TESSERA_SECRET_KEY would otherwise fail every token it signs."""

from __future__ import annotations

import pytest

from tessera.key_cipher import KeyCipher, WrongSecretKey
from tessera.key_ring import check_secret_key, generate
from tessera.storage.stores import Stores
from tests.support import Clock, World

pytestmark = pytest.mark.anyio

THIS = KeyCipher("the key of this node " + "x" * 20)
OTHER = KeyCipher("another node's key " + "y" * 20)


async def _keys_sealed_by(stores: Stores, cipher: KeyCipher, subdomain: str, clock: Clock) -> None:
    account = await stores.accounts.create(subdomain, subdomain, clock())
    await stores.keys.install(account.id, [(generate("ES256", cipher), generate("ES256", cipher))], clock())


async def test_the_newest_stored_key_must_open_with_the_secret_key(stores: Stores, world: World, clock: Clock) -> None:
    await _keys_sealed_by(stores, THIS, f"a-{world.subdomain}", clock)
    await check_secret_key(stores.keys, THIS)
    with pytest.raises(WrongSecretKey):
        await check_secret_key(stores.keys, OTHER)
    # The newest key decides: keys stored later under another secret key are refused.
    await _keys_sealed_by(stores, OTHER, f"b-{world.subdomain}", clock)
    newest = await stores.keys.newest_sealed()
    assert newest is not None and OTHER.open(newest)
    with pytest.raises(WrongSecretKey):
        await check_secret_key(stores.keys, THIS)
