"""The audit log's vocabulary (INTERFACE.md section 6): every action and source type an
entry may carry, and the one way to build an entry, so that the API's filters, the
console's menus and the code that records agree on the words.

It imports nothing but the model, so that the protocol (which records code replays and
refresh-token reuse) and the management layer share this one vocabulary;
management/audit_events.py re-exports it under the name the management layer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.model import AuditEntry

# source_type: what the entry is about.
OAUTH_CLIENT = "oauth_client"
GLOBAL_CLIENT = "oauth_global_client"
OAUTH_TOKEN = "oauth_token"
CONSENT = "oauth_consent"
USER = "user"
SIGNING_KEY = "signing_key"
RESOURCE = "oauth_resource"  # a protected resource registered for the account (RFC 8707)
ACCOUNT = "account"  # the account's own settings, such as its registration policy
REGISTRATION_TOKEN = "registration_token"  # an initial access token for dynamic registration
SOURCE_TYPES = (
    OAUTH_CLIENT,
    GLOBAL_CLIENT,
    OAUTH_TOKEN,
    CONSENT,
    USER,
    SIGNING_KEY,
    RESOURCE,
    ACCOUNT,
    REGISTRATION_TOKEN,
)

# action: what happened to it.
CREATE = "create"
UPDATE = "update"
DESTROY = "destroy"
REGENERATE_SECRET = "regenerate_secret"
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_OUT = "sign_out"
AUTHORIZE = "authorize"  # a user consented to an app
REVOKE = "revoke"  # a consent, a token, or a global app for the account
CODE_REPLAY = "code_replay"  # an authorization code presented twice: its tokens revoked
REFRESH_REUSE = "refresh_reuse"  # a used refresh token presented again: its family revoked
SUSPEND = "suspend"
UNSUSPEND = "unsuspend"
SET_PASSWORD = "set_password"
ROTATE_KEY = "rotate_key"
REGISTER = "register"  # a client registered itself (dynamic registration)
LIFT_THROTTLE = "lift_throttle"  # an admin lifted the sign-in throttle of a user's email
REQUEST_PASSWORD_RESET = "request_password_reset"  # a reset link was e-mailed to a user
RESET_PASSWORD = "reset_password"  # a user set a new password through an e-mailed link
ACTIONS = (
    CREATE,
    UPDATE,
    DESTROY,
    REGENERATE_SECRET,
    SIGN_IN,
    SIGN_IN_FAILED,
    SIGN_OUT,
    AUTHORIZE,
    REVOKE,
    CODE_REPLAY,
    REFRESH_REUSE,
    SUSPEND,
    UNSUSPEND,
    SET_PASSWORD,
    ROTATE_KEY,
    REGISTER,
    LIFT_THROTTLE,
    REQUEST_PASSWORD_RESET,
    RESET_PASSWORD,
)

SYSTEM = "Tessera"  # the actor name when no user acted (a detected replay, the CLI)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it, as the entry names them: a user of the account, or the system (id None)."""

    id: int | None
    name: str
    ip_address: str | None = None


SYSTEM_ACTOR = Actor(None, SYSTEM)


def entry(
    account_id: int,
    actor: Actor,
    action: str,
    source_type: str,
    source_id: int | None,
    source_label: str,
    change: str,
    now: float,
) -> AuditEntry:
    """An entry; `change` is a sentence for people and must never quote a secret."""
    assert action in ACTIONS and source_type in SOURCE_TYPES, (action, source_type)
    return AuditEntry(
        account_id=account_id,
        actor_id=actor.id,
        actor_name=actor.name,
        source_id=source_id,
        source_type=source_type,
        source_label=source_label,
        action=action,
        change_description=change,
        ip_address=actor.ip_address,
        created_at=now,
    )
