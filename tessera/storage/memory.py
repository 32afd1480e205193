"""Every port of tessera/protocol/ports.py in process memory, for the protocol's unit tests.

Same semantics as the SQL stores, as the port docstrings state them; tests/storage/
test_contract.py runs its port-level tests against these too. Atomicity comes from the
event loop: no method awaits between reading a row and changing it, so of concurrent
`redeem` or `rotate` calls exactly one claims, as the conditional UPDATE does in SQL.

Not for serving: nothing survives the process, and nodes would not share it (DESIGN.md,
"Scale beyond one machine"). No SQLAlchemy here, so a unit test imports none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass, field

from joserfc.jwk import ECKey, KeySet, RSAKey

from tessera.model import (
    DEVICE_ALLOWED,
    DEVICE_DENIED,
    DEVICE_PENDING,
    AccessToken,
    AuditEntry,
    AuthorizationCode,
    Client,
    Consent,
    DeviceCode,
    RefreshToken,
    Resource,
    User,
)
from tessera.protocol import ports, redirect_uri
from tessera.protocol.ports import (
    AlreadyUsed,
    LoadedKey,
    NewCode,
    NewDeviceCode,
    Polled,
    Redeemed,
    RevokedMeanwhile,
    Rotated,
    Rotation,
    SignInRefused,
    TokenRows,
)


class MemoryClientStore:
    def __init__(self) -> None:
        self._clients: dict[int, Client] = {}

    def add(self, client: Client) -> Client:
        self._clients[client.id] = client
        return client

    async def find(self, account_id: int, identifier: str) -> Client | None:
        usable = [
            c for c in self._clients.values() if c.identifier == identifier and c.account_id in (account_id, None)
        ]
        # An account's own client wins over a global one with the same identifier.
        usable.sort(key=lambda c: c.account_id is None)
        return usable[0] if usable else None

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        client = self._clients.get(numeric_id)
        return client if client is not None and client.account_id in (account_id, None) else None

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return any(
            redirect_uri.matches(uri, registered)
            for c in self._clients.values()
            if c.account_id in (account_id, None)
            for registered in c.redirect_uris
        )


class MemoryResourceStore:
    def __init__(self) -> None:
        self._resources: dict[tuple[int, str], Resource] = {}

    def add(self, resource: Resource) -> Resource:
        self._resources[(resource.account_id, resource.uri)] = resource
        return resource

    async def find(self, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
        found = (self._resources.get((account_id, uri)) for uri in uris)
        return {r.uri: r for r in found if r is not None}


class MemoryUserStore:
    def __init__(self) -> None:
        self._users: dict[int, User] = {}

    def add(self, user: User) -> User:
        self._users[user.id] = user
        return user

    async def get(self, account_id: int, user_id: int) -> User | None:
        user = self._users.get(user_id)
        return user if user is not None and user.account_id == account_id else None

    async def find_by_email(self, account_id: int, email: str) -> User | None:
        wanted = email.strip().lower()
        found = (u for u in self._users.values() if u.account_id == account_id and u.email.lower() == wanted)
        return next(found, None)


class MemoryConsentStore:
    def __init__(self) -> None:
        self._consents: dict[tuple[int, int], Consent] = {}
        self._ids = itertools.count(1)

    async def find(self, user_id: int, client_id: int) -> Consent | None:
        return self._consents.get((user_id, client_id))

    async def remember(
        self, account_id: int, user_id: int, client_id: int, scopes: tuple[str, ...], now: float
    ) -> Consent:
        old = self._consents.get((user_id, client_id))
        if old is None:
            consent = Consent(next(self._ids), account_id, user_id, client_id, scopes, now, now)
        else:
            union = old.scopes + tuple(s for s in scopes if s not in old.scopes)
            consent = dataclasses.replace(old, scopes=union, updated_at=now)
        self._consents[(user_id, client_id)] = consent
        return consent


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


@dataclass
class _Failures:
    count: int
    window_started_at: float


class MemoryAuthenticator:
    """Passwords kept as SHA-256 digests: a test double only. Real passwords are argon2id
    (tessera/passwords.py); a fast hash keeps unit tests in microseconds."""

    def __init__(self, users: MemoryUserStore, *, limit: int = 10, window: int = 900) -> None:
        self.users = users
        self.limit = limit
        self.window = window
        self._passwords: dict[int, bytes] = {}
        self._failures: dict[tuple[int, str], _Failures] = {}

    def set_password(self, user: User, password: str) -> None:
        self._passwords[user.id] = hashlib.sha256(password.encode()).digest()

    async def authenticate(
        self,
        account_id: int,
        email: str,
        password: str,
        now: float,
        *,
        ip_address: str | None = None,
        client_name: str | None = None,
    ) -> User:
        email = email.strip().lower()
        failures = self._failures.get((account_id, email))
        if failures is not None and failures.count >= self.limit:
            remaining = failures.window_started_at + self.window - now
            if remaining > 0:
                raise SignInRefused("too many failed sign-ins for this email", retry_after=int(remaining) + 1)
        user = await self.users.find_by_email(account_id, email)
        presented = hashlib.sha256(password.encode()).digest()
        if user is None or not hmac.compare_digest(self._passwords.get(user.id, b""), presented):
            self._record_failure(account_id, email, now)
            raise SignInRefused("the email or password is wrong")
        self._failures.pop((account_id, email), None)
        if user.is_suspended:  # as sign_in.py: said only after the right password
            raise SignInRefused("this user account is suspended; contact an admin of the account to restore it")
        return user

    def _record_failure(self, account_id: int, email: str, now: float) -> None:
        failures = self._failures.get((account_id, email))
        if failures is None or failures.window_started_at + self.window <= now:
            self._failures[(account_id, email)] = _Failures(1, now)  # a passed window starts again
        else:
            failures.count += 1


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
