"""Signing keys in process memory (the KeyRing port). Apart because it alone makes real
key material (joserfc), which no other memory store needs.
"""

from __future__ import annotations

import secrets

from joserfc.jwk import ECKey, KeySet, RSAKey

from tessera.protocol.ports import LoadedKey


class MemoryKeyRing:
    """One current key per account and algorithm, made on first use; no next or retired keys."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, str], LoadedKey] = {}

    async def signing_key(self, account_id: int, alg: str) -> LoadedKey:
        key = self._keys.get((account_id, alg))
        if key is None:
            key = self._keys[(account_id, alg)] = _generate(alg)
        return key

    async def published(self, account_id: int) -> KeySet:
        keys = [k.key.as_dict(private=False) for (owner, _), k in self._keys.items() if owner == account_id]
        return KeySet.import_key_set({"keys": keys})  # type: ignore[typeddict-item]


def _generate(alg: str) -> LoadedKey:
    kid = secrets.token_urlsafe(12)
    params = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "ES256":
        return LoadedKey(kid, alg, ECKey.generate_key("P-256", parameters=params, private=True))  # type: ignore[arg-type]
    if alg == "RS256":
        return LoadedKey(kid, alg, RSAKey.generate_key(2048, parameters=params, private=True))  # type: ignore[arg-type]
    raise ValueError(f"unsupported signing algorithm {alg!r}")
