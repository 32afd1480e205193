"""The storage the protocol needs, as narrow intent-named contracts.

Every method is atomic. The docstrings state the semantics an implementation must keep;
tests/storage/ holds one contract suite that every engine passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from joserfc.jwk import ECKey, KeySet, RSAKey

from tessera.model import (
    AccessToken,
    AuditEntry,
    AuthorizationCode,
    Client,
    DeviceCode,
    RefreshToken,
    Resource,
    User,
)

# Re-exported: the values the token and code ports take and give (token_rows.py).
from tessera.protocol.token_rows import (
    AlreadyUsed as AlreadyUsed,
)
from tessera.protocol.token_rows import (
    NewAccessToken as NewAccessToken,
)
from tessera.protocol.token_rows import (
    NewCode as NewCode,
)
from tessera.protocol.token_rows import (
    NewRefreshToken as NewRefreshToken,
)
from tessera.protocol.token_rows import (
    Redeemed as Redeemed,
)
from tessera.protocol.token_rows import (
    RevokedMeanwhile as RevokedMeanwhile,
)
from tessera.protocol.token_rows import (
    Rotated as Rotated,
)
from tessera.protocol.token_rows import (
    Rotation as Rotation,
)
from tessera.protocol.token_rows import (
    TokenRows as TokenRows,
)


class ClientStore(Protocol):
    async def find(self, account_id: int, identifier: str) -> Client | None:
        """The client with this identifier usable on the account: its own, or a global one."""

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        """The client with this numeric id usable on the account (to explain a wrong client_id)."""

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        """Whether a client an admin registered (not one that registered itself), usable
        on the account, has this redirect URI (as protocol/redirect_uri.py matches it)."""


class UsedOnceStore(Protocol):
    async def first_use(self, kind: str, value: str, expires_at: float, now: float) -> bool:
        """True exactly once for `value` of `kind` (e.g. a DPoP proof's or a client
        assertion's `jti`) among all nodes: the first presentation records it until
        `expires_at`; any other presentation before then, concurrent ones included, is
        False. After `expires_at` the value may be recorded afresh (the caller refuses
        values that old by their own time rules)."""
        ...


@dataclass(frozen=True, slots=True)
class PushedRequest:
    """A pushed authorization request (RFC 9126) as stored: its parameters are a JSON object."""

    account_id: int
    client_id: int
    parameters: str
    expires_at: float
    used_at: float | None
    completed_at: float | None


class PushedRequestStore(Protocol):
    """RFC 9126 request_uris, by digest; each step that must happen once is one conditional
    update, as for authorization codes."""

    async def push(
        self, account_id: int, client_id: int, digest: bytes, parameters: str, now: float, expires_at: float
    ) -> None:
        """Keep the pushed parameters under the request_uri's digest until `expires_at`."""

    async def claim(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float, flow_expires_at: float
    ) -> str | None:
        """The first use: the parameters when the request_uri is this account's and this
        client's, unexpired and unused; it is then used (RFC 9126 section 4, one-time use),
        and may be resumed with `flow_digest` until `flow_expires_at`. Of concurrent claims
        exactly one gets the parameters; any other call answers None."""

    async def resume(
        self, account_id: int, client_id: int, digest: bytes, flow_digest: bytes, now: float
    ) -> str | None:
        """The parameters of a claimed request whose flow is still open (claimed with this
        `flow_digest`, not completed, not expired), or None."""

    async def complete(self, account_id: int, digest: bytes, flow_digest: bytes, now: float) -> bool:
        """Close the claimed flow when the response goes to the client: True exactly once."""

    async def find(self, account_id: int, digest: bytes) -> PushedRequest | None:
        """The row, in whatever state (to say why a request_uri was refused)."""


class ResourceStore(Protocol):
    async def find(self, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
        """The account's registered resources among `uris`, by URI (exact match); a URI
        that is not registered is absent."""


class ClientDocuments(Protocol):
    async def resolve(self, account_id: int, url: str) -> Client:
        """The public client that the metadata document at `url` describes, as a client of
        the account: created on first use, updated when the document changed (its latest
        redirect URIs win), so that codes, tokens and consents can name it by numeric id.
        Raises client_metadata_document.DocumentProblem when the URL or the document does
        not qualify, or the document cannot be fetched."""


class UserStore(Protocol):
    async def get(self, account_id: int, user_id: int) -> User | None: ...


class CodeStore(Protocol):
    async def create(self, code: NewCode) -> int: ...

    async def find(self, digest: bytes) -> AuthorizationCode | None:
        """The code with this digest, used or not."""

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        """Mark the code used and write the tokens, in one transaction.

        Of concurrent calls for one code exactly one writes its tokens; the others write
        nothing and answer Redeemed(None). (Revoking on a replay is the caller's: only it
        knows whether the code was already used when the request began.)
        """


@dataclass(frozen=True, slots=True)
class NewDeviceCode:
    digest: bytes  # of the device code
    user_code: str  # normalised: 8 letters of protocol/device_authorization.USER_CODE_ALPHABET
    account_id: int
    client_id: int
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float
    interval: int


@dataclass(frozen=True, slots=True)
class Polled:
    """What DeviceCodeStore.poll found and decided, in one statement: the authorization's
    status as it is now, whether this poll came too soon (slow_down: the interval grew by
    5 seconds), and the interval the device must keep from now on."""

    status: str
    slow_down: bool
    interval: int
    user_id: int | None  # who decided, once someone has
    auth_time: float | None


class DeviceCodeStore(Protocol):
    async def create(self, code: NewDeviceCode) -> int | None:
        """Store a device authorization; None (nothing written) when its user code is taken
        by another row, so that the caller draws another."""

    async def find(self, digest: bytes) -> DeviceCode | None:
        """The device authorization with this device code digest, whatever its state."""

    async def find_pending(self, account_id: int, user_code: str, now: float) -> DeviceCode | None:
        """The account's authorization with this (normalised) user code that still waits
        for a user's decision and has not expired; None otherwise."""

    async def find_decided(self, account_id: int, user_code: str, user_id: int) -> DeviceCode | None:
        """The account's authorization with this user code that this user allowed or
        denied, whatever its age; None otherwise (the page that says what they decided)."""

    async def decide(
        self, code_id: int, user_id: int, auth_time: float, allow: bool, now: float, audit: AuditEntry | None = None
    ) -> bool:
        """Record the user's decision, if the authorization is still pending and unexpired:
        one conditional UPDATE, so of concurrent decisions exactly one counts. True when
        this call decided; `audit` is written in the same transaction then."""

    async def poll(self, code_id: int, now: float) -> Polled:
        """A poll of the token endpoint (RFC 8628 section 3.5), in one statement: while the
        authorization is pending, a poll sooner than `interval` seconds after the previous
        one is slow_down and adds 5 seconds to the interval; every poll is remembered."""

    async def redeem(self, code_id: int, now: float, tokens: TokenRows) -> Redeemed:
        """Claim an allowed, unused authorization and write the tokens, in one transaction.

        Of concurrent calls exactly one writes its tokens; the others write nothing and
        answer Redeemed(None), as CodeStore.redeem."""


class TokenStore(Protocol):
    async def issue(self, tokens: TokenRows) -> int:
        """Write an access token (and its refresh token); return the access token's id."""

    async def find_access(self, digest: bytes) -> AccessToken | None: ...

    async def find_refresh(self, digest: bytes) -> RefreshToken | None: ...

    async def rotate(self, refresh_id: int, now: float, tokens: TokenRows) -> Rotation:
        """Use a refresh token once: in one transaction claim it (mark it used), revoke the
        access token it was issued with, and write the new tokens; answer Rotated.

        Of concurrent calls for one token exactly one claims it. If it was already used,
        nothing is written and the answer is AlreadyUsed (when, and its family). A revoked
        or expired token is the caller's to refuse before calling; one revoked after the
        caller read it is not claimed, and the answer is RevokedMeanwhile. A rotation and a
        revocation of the same family never interleave: whichever comes second sees all
        the first wrote, so no token minted by a rotation outlives its family's revocation.
        """

    async def revoke_family(self, family: str, now: float, audit: AuditEntry | None = None) -> int:
        """Revoke every access and refresh token descended from one authorization that is
        not revoked yet; return how many were. `audit` is recorded in the same transaction
        when at least one was (so a second revocation of the same family records nothing)."""

    async def revoke_access(self, token_id: int, now: float, audit: AuditEntry | None = None) -> int:
        """Revoke one access token (its refresh token stays usable); 1 if it was live, else 0.
        `audit` is recorded in the same transaction when it was revoked."""


class SignInRefused(Exception):
    """A password sign-in failed; `retry_after` is set when the attempt was throttled."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Authenticator(Protocol):
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
        """The user whose email and password these are, or SignInRefused.

        Failed attempts are counted per account and email in the store, so the limit holds
        across nodes; over the limit, even a right password is refused until the window ends.
        A suspended user is refused once the password is known right. Success and failure are
        audited with the counter's update; `ip_address` is the caller's, `client_name` the
        client of a password grant (None: the sign-in page).
        """


@dataclass(frozen=True, slots=True)
class LoadedKey:
    """A private signing key, decrypted, with its key id and algorithm."""

    kid: str
    alg: str
    key: ECKey | RSAKey


class KeyRing(Protocol):
    async def signing_key(self, account_id: int, alg: str) -> LoadedKey:
        """The account's current key for `alg`, created on first use."""

    async def published(self, account_id: int) -> KeySet:
        """The account's public keys: current, next, and retired ones still needed to verify."""
