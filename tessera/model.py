"""The domain model: frozen dataclasses that cross every layer (INTERFACE.md section 3).

Storage builds them from rows, the protocol reads them, the web renders them. Times are
seconds since the epoch as floats; scopes are tuples in the order they were granted.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "agent", "end-user")
CLIENT_KINDS = ("confidential", "public")
# The grants a client may be allowed; device_code is the device authorization grant
# (RFC 8628), whose grant_type at the token endpoint is its URN (protocol/grants).
GRANT_TYPES = (
    "authorization_code",
    "implicit",
    "client_credentials",
    "password",
    "refresh_token",
    "device_code",
)
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")
ACCESS_TOKEN_FORMATS = ("opaque", "jwt")
SIGNING_ALGS = ("ES256", "RS256")
# Who may register a client at the account's registration endpoint (RFC 7591): nobody (the
# endpoint answers 404), holders of an initial access token an admin made, or anyone.
REGISTRATION_POLICIES = ("off", "token", "open")
# How a client came to be: made by an admin (CLI, console, API), registered itself at the
# registration endpoint (RFC 7591), or described by a client ID metadata document at the
# https URL that is its client_id. The last two are marked as unverified to users.
CLIENT_REGISTRATIONS = ("admin", "dynamic", "metadata_document")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    subdomain: str
    name: str
    created_at: float
    registration_policy: str = "off"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    account_id: int
    email: str
    name: str
    role: str
    password_hash: str
    created_at: float
    updated_at: float
    suspended_at: float | None = None  # set: may not sign in; sessions and tokens were ended

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    account_id: int | None  # None for a global client: it belongs to the platform
    identifier: str
    name: str
    description: str
    company: str
    logo_url: str
    redirect_uris: tuple[str, ...]
    kind: str
    grant_types: frozenset[str]
    allowed_scopes: tuple[str, ...]  # empty: any scope Tessera knows
    access_token_lifetime: int | None  # None: Zendesk's legacy non-expiring tokens
    refresh_token_lifetime: int
    access_token_format: str
    introspection: bool
    user_id: int | None  # the owner a client_credentials token acts as
    secret_hash: bytes | None
    secret_prefix: str
    created_at: float
    updated_at: float
    signing_alg: str = "ES256"  # signs the client's ID tokens and JWT access tokens
    # After a regeneration with an overlap, the previous secret works until this time.
    previous_secret_hash: bytes | None = None
    previous_secret_expires_at: float | None = None
    registration: str = "admin"  # one of CLIENT_REGISTRATIONS
    require_par: bool = False  # authorization requests only by reference to a pushed one (RFC 9126)
    require_dpop: bool = False  # access tokens only bound to a key with DPoP (RFC 9449)
    jwks: str | None = None  # public JWK set (JSON) for private_key_jwt (RFC 7523); None: none registered

    @property
    def is_self_registered(self) -> bool:
        """Registered itself (RFC 7591) or described by its own metadata document: its name
        and logo are the app's own claims, not verified by the account's admins."""
        return self.registration != "admin"

    @property
    def is_global(self) -> bool:
        return self.account_id is None

    @property
    def is_public(self) -> bool:
        return self.kind == "public"


@dataclass(frozen=True, slots=True)
class Consent:
    """A user's consent to a client for some scopes; lets a repeat authorization skip consent."""

    id: int
    account_id: int
    user_id: int
    client_id: int
    scopes: tuple[str, ...]
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    id: int
    account_id: int
    client_id: int
    user_id: int
    redirect_uri: str  # as sent in the authorization request; "" when it was omitted
    scopes: tuple[str, ...]
    code_challenge: str  # "" when the request carried no PKCE challenge
    nonce: str
    family: str
    auth_time: float
    created_at: float
    expires_at: float
    used_at: float | None
    # The resources (RFC 8707) the authorization was for; empty: the account's API.
    audience: tuple[str, ...] = ()
    # RFC 9449 section 10: the JWK thumbprint of the DPoP key that must redeem the code.
    dpop_jkt: str | None = None


# A device authorization's states (RFC 8628 section 3.3): waiting for the user, or decided.
DEVICE_PENDING = "pending"
DEVICE_ALLOWED = "allowed"
DEVICE_DENIED = "denied"


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """A device authorization request (RFC 8628 section 3.2): the device polls with the
    device code (stored as its digest only), the user enters the user code (stored
    normalised: 8 letters, no dash)."""

    id: int
    account_id: int
    client_id: int
    user_code: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float
    interval: int  # seconds the device must wait between polls; grows by 5 on slow_down
    last_polled_at: float | None
    status: str  # DEVICE_PENDING, DEVICE_ALLOWED or DEVICE_DENIED
    user_id: int | None  # who decided
    auth_time: float | None  # when that user signed in (the ID token's auth_time)
    used_at: float | None  # when tokens were issued for it

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class AccessToken:
    id: int
    account_id: int
    client_id: int
    user_id: int
    scopes: tuple[str, ...]
    family: str
    token_prefix: str
    created_at: float
    expires_at: float | None  # None: a legacy non-expiring token
    used_at: float | None
    revoked_at: float | None
    # The resources it is for (RFC 8707, RFC 9068 aud); empty: the account's API.
    audience: tuple[str, ...] = ()
    # RFC 9449 section 6: the JWK SHA-256 thumbprint of the key it is bound to (DPoP); None: a bearer token.
    jkt: str | None = None

    def is_expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: int
    account_id: int
    client_id: int
    user_id: int
    access_token_id: int | None
    scopes: tuple[str, ...]
    family: str
    created_at: float
    expires_at: float
    used_at: float | None
    revoked_at: float | None
    # The resources the authorization was for, which a refresh may narrow and never widen
    # (RFC 8707 section 2.2); empty: the account's API.
    audience: tuple[str, ...] = ()
    # RFC 9449 section 5.1: a public client's refresh token is bound to its DPoP key; None: unbound.
    jkt: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """A protected resource an admin registered for the account (RFC 8707): tokens may be
    requested for it with the `resource` parameter. The account's own API is one without
    being registered."""

    id: int
    account_id: int
    uri: str  # absolute, no fragment: the value of `resource` and of the token's aud
    name: str
    scopes: tuple[str, ...]  # empty: any scope; else a token for it carries only these
    created_at: float


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser on one account host; the cookie holds a secret, the store its hash."""

    id: int
    account_id: int
    user_id: int
    auth_time: float
    created_at: float
    expires_at: float
    # When the session was last used, to at most a minute (web/sessions.py: TOUCH_INTERVAL).
    last_seen_at: float


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A published key of an account; `private_jwk` only when loaded for signing."""

    id: int
    account_id: int
    kid: str
    alg: str
    public_jwk: str  # JSON
    created_at: float
    activated_at: float | None  # None: the next key, published ahead of use
    retired_at: float | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of an account's audit log (INTERFACE.md section 6), before it is stored.

    `action` and `source_type` come from management/audit_events.py. No field ever holds a
    secret, token, code or password, whole or in part.
    """

    account_id: int
    actor_id: int | None  # None: the system, an anonymous caller, or an operator at the CLI
    actor_name: str
    source_id: int | None
    source_type: str
    source_label: str
    action: str
    change_description: str
    ip_address: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class AuditLog:
    """A stored audit entry."""

    id: int
    entry: AuditEntry
