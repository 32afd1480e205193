"""Tokens in process memory, and the codes redeemed for them (the TokenStore, CodeStore
and DeviceCodeStore ports). Together because a code's redemption writes its tokens into
the token store in the same step, with no await in between: that is what makes exactly one
of concurrent redemptions or rotations win, as the conditional UPDATE does in SQL.
"""

from __future__ import annotations

import dataclasses
import itertools

from tessera.model import (
    DEVICE_ALLOWED,
    DEVICE_DENIED,
    DEVICE_PENDING,
    AccessToken,
    AuditEntry,
    AuthorizationCode,
    DeviceCode,
    RefreshToken,
)
from tessera.protocol.ports import (
    AlreadyUsed,
    NewCode,
    NewDeviceCode,
    Polled,
    Redeemed,
    RevokedMeanwhile,
    Rotated,
    Rotation,
    TokenRows,
)


class MemoryTokenStore:
    def __init__(self) -> None:
        self._access: dict[int, AccessToken] = {}
        self._refresh: dict[int, RefreshToken] = {}
        self._access_by_digest: dict[bytes, int] = {}
        self._refresh_by_digest: dict[bytes, int] = {}
        self._ids = itertools.count(1)
        self.audit_log: list[AuditEntry] = []  # what a revocation recorded, for tests to read

    def insert(self, tokens: TokenRows) -> int:
        """Write the rows at once (no await: callers stay atomic); the access token's id."""
        a = tokens.access
        access_id = next(self._ids)
        self._access[access_id] = AccessToken(
            access_id, a.account_id, a.client_id, a.user_id, a.scopes, a.family, a.token_prefix,
            a.created_at, a.expires_at, None, None, a.audience, a.jkt,
        )  # fmt: skip
        self._access_by_digest[a.digest] = access_id
        r = tokens.refresh
        if r is not None:
            refresh_id = next(self._ids)
            scopes = a.scopes if r.scopes is None else r.scopes
            audience = a.audience if r.audience is None else r.audience
            self._refresh[refresh_id] = RefreshToken(
                refresh_id, a.account_id, a.client_id, a.user_id, access_id, scopes, a.family,
                a.created_at, r.expires_at, None, None, audience, r.jkt,
            )  # fmt: skip
            self._refresh_by_digest[r.digest] = refresh_id
        return access_id

    async def issue(self, tokens: TokenRows) -> int:
        return self.insert(tokens)

    async def find_access(self, digest: bytes) -> AccessToken | None:
        token_id = self._access_by_digest.get(digest)
        return None if token_id is None else self._access[token_id]

    async def find_refresh(self, digest: bytes) -> RefreshToken | None:
        token_id = self._refresh_by_digest.get(digest)
        return None if token_id is None else self._refresh[token_id]

    async def rotate(self, refresh_id: int, now: float, tokens: TokenRows) -> Rotation:
        token = self._refresh[refresh_id]
        if token.used_at is not None:
            return AlreadyUsed(used_at=token.used_at, family=token.family)
        if token.revoked_at is not None:
            return RevokedMeanwhile(family=token.family)
        self._refresh[refresh_id] = dataclasses.replace(token, used_at=now)
        if token.access_token_id is not None:
            self._revoke_access(token.access_token_id, now)
        return Rotated(access_token_id=self.insert(tokens))

    async def revoke_family(self, family: str, now: float, audit: AuditEntry | None = None) -> int:
        revoked = 0
        for access in list(self._access.values()):
            if access.family == family:
                revoked += self._revoke_access(access.id, now)
        for refresh in list(self._refresh.values()):
            if refresh.family == family and refresh.revoked_at is None:
                self._refresh[refresh.id] = dataclasses.replace(refresh, revoked_at=now)
                revoked += 1
        return self._audited(revoked, audit)

    async def revoke_access(self, token_id: int, now: float, audit: AuditEntry | None = None) -> int:
        return self._audited(self._revoke_access(token_id, now), audit)

    def _audited(self, revoked: int, audit: AuditEntry | None) -> int:
        if revoked and audit is not None:
            self.audit_log.append(audit)
        return revoked

    def _revoke_access(self, token_id: int, now: float) -> int:
        token = self._access.get(token_id)
        if token is None or token.revoked_at is not None:
            return 0
        self._access[token_id] = dataclasses.replace(token, revoked_at=now)
        return 1

    async def touch(self, token_id: int, now: float) -> None:
        token = self._access.get(token_id)
        if token is not None:
            self._access[token_id] = dataclasses.replace(token, used_at=now)


class MemoryCodeStore:
    def __init__(self, tokens: MemoryTokenStore) -> None:
        self.tokens = tokens  # redeem writes its tokens there, in the same step
        self._codes: dict[int, AuthorizationCode] = {}
        self._by_digest: dict[bytes, int] = {}
        self._ids = itertools.count(1)

    async def create(self, code: NewCode) -> int:
        code_id = next(self._ids)
        fields = {f.name: getattr(code, f.name) for f in dataclasses.fields(code) if f.name != "digest"}
        self._codes[code_id] = AuthorizationCode(id=code_id, used_at=None, **fields)
        self._by_digest[code.digest] = code_id
        return code_id

    async def find(self, digest: bytes) -> AuthorizationCode | None:
        code_id = self._by_digest.get(digest)
        return None if code_id is None else self._codes[code_id]

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        code = self._codes[code_id]
        if code.used_at is not None:
            return Redeemed(access_token_id=None)  # another redemption won
        self._codes[code_id] = dataclasses.replace(code, used_at=now)
        return Redeemed(access_token_id=self.tokens.insert(tokens))


class MemoryDeviceCodeStore:
    SLOW_DOWN_STEP = 5  # as storage/device_codes.py: RFC 8628 section 3.5

    def __init__(self, tokens: MemoryTokenStore) -> None:
        self.tokens = tokens  # redeem writes its tokens there, in the same step
        self._codes: dict[int, DeviceCode] = {}
        self._by_digest: dict[bytes, int] = {}
        self._by_user_code: dict[str, int] = {}
        self._ids = itertools.count(1)
        self.audit_log: list[AuditEntry] = []  # what a decision recorded, for tests to read

    async def create(self, code: NewDeviceCode) -> int | None:
        if code.user_code in self._by_user_code or code.digest in self._by_digest:
            return None
        code_id = next(self._ids)
        self._codes[code_id] = DeviceCode(
            id=code_id,
            account_id=code.account_id,
            client_id=code.client_id,
            user_code=code.user_code,
            scopes=code.scopes,
            created_at=code.created_at,
            expires_at=code.expires_at,
            interval=code.interval,
            last_polled_at=None,
            status=DEVICE_PENDING,
            user_id=None,
            auth_time=None,
            used_at=None,
        )
        self._by_digest[code.digest] = code_id
        self._by_user_code[code.user_code] = code_id
        return code_id

    async def find(self, digest: bytes) -> DeviceCode | None:
        code_id = self._by_digest.get(digest)
        return None if code_id is None else self._codes[code_id]

    async def find_pending(self, account_id: int, user_code: str, now: float) -> DeviceCode | None:
        code_id = self._by_user_code.get(user_code)
        code = None if code_id is None else self._codes[code_id]
        if code is None or code.account_id != account_id or code.status != DEVICE_PENDING or now >= code.expires_at:
            return None
        return code

    async def find_decided(self, account_id: int, user_code: str, user_id: int) -> DeviceCode | None:
        code_id = self._by_user_code.get(user_code)
        code = None if code_id is None else self._codes[code_id]
        if code is None or code.account_id != account_id or code.status == DEVICE_PENDING or code.user_id != user_id:
            return None
        return code

    async def decide(
        self, code_id: int, user_id: int, auth_time: float, allow: bool, now: float, audit: AuditEntry | None = None
    ) -> bool:
        code = self._codes[code_id]
        if code.status != DEVICE_PENDING or now >= code.expires_at:
            return False
        status = DEVICE_ALLOWED if allow else DEVICE_DENIED
        self._codes[code_id] = dataclasses.replace(code, status=status, user_id=user_id, auth_time=auth_time)
        if audit is not None:
            self.audit_log.append(audit)
        return True

    async def poll(self, code_id: int, now: float) -> Polled:
        code = self._codes[code_id]
        too_soon = (
            code.status == DEVICE_PENDING
            and code.last_polled_at is not None
            and code.last_polled_at + code.interval > now
        )
        interval = code.interval + self.SLOW_DOWN_STEP if too_soon else code.interval
        self._codes[code_id] = dataclasses.replace(code, interval=interval, last_polled_at=now)
        return Polled(code.status, too_soon, interval, code.user_id, code.auth_time)

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        code = self._codes[code_id]
        if code.status != DEVICE_ALLOWED or code.used_at is not None:
            return Redeemed(access_token_id=None)
        self._codes[code_id] = dataclasses.replace(code, used_at=now)
        return Redeemed(access_token_id=self.tokens.insert(tokens))
