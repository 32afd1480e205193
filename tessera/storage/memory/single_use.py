"""What a client may present once, in process memory: DPoP proof and client assertion
`jti`s (the UsedOnceStore port) and pushed authorization requests, whose request_uri one
authorization flow claims (the PushedRequestStore port). Together because both answer
one question, whether this presentation is the first, and neither touches another store.
"""

from __future__ import annotations

import dataclasses

from tessera.protocol import ports


class MemoryUsedOnceStore:
    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}

    async def first_use(self, kind: str, value: str, expires_at: float, now: float) -> bool:
        recorded = self._until.get((kind, value))
        if recorded is not None and recorded > now:
            return False
        self._until[(kind, value)] = expires_at
        return True


class MemoryPushedRequestStore:
    def __init__(self) -> None:
        self._rows: dict[bytes, tuple[ports.PushedRequest, bytes | None]] = {}

    async def push(
        self, account_id: int, client_id: int, digest: bytes, parameters: str, now: float, expires_at: float
    ) -> None:
        self._rows[digest] = (ports.PushedRequest(account_id, client_id, parameters, expires_at, None, None), None)

    def _open(self, account_id: int, client_id: int, digest: bytes, now: float) -> ports.PushedRequest | None:
        found = self._rows.get(digest)
        if found is None:
            return None
        row = found[0]
        if row.account_id != account_id or row.client_id != client_id or row.expires_at <= now:
            return None
        return row

    async def claim(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float, flow_expires_at: float
    ) -> str | None:
        row = self._open(account_id, client_id, digest, now)
        if row is None or row.used_at is not None:
            return None
        self._rows[digest] = (dataclasses.replace(row, used_at=now, expires_at=flow_expires_at), flow_digest)
        return row.parameters

    async def resume(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float
    ) -> str | None:
        row = self._open(account_id, client_id, digest, now)
        if row is None or row.used_at is None or row.completed_at is not None:
            return None
        return row.parameters if self._rows[digest][1] == flow_digest else None

    async def complete(self, account_id: int, digest: bytes, flow_digest: bytes, now: float) -> bool:
        found = self._rows.get(digest)
        if found is None or found[1] != flow_digest or found[0].account_id != account_id:
            return False
        if found[0].completed_at is not None:
            return False
        self._rows[digest] = (dataclasses.replace(found[0], completed_at=now), flow_digest)
        return True

    async def find(self, account_id: int, digest: bytes) -> ports.PushedRequest | None:
        found = self._rows.get(digest)
        return None if found is None or found[0].account_id != account_id else found[0]
