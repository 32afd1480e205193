"""The audit entries of password sign-ins (INTERFACE.md section 6: "sign-in success and
failure"); a success is written with the clearing of its throttle, in one transaction.

No entry quotes the password. The actor of a failure is unknown, so it is named by the
email typed, cut short; what was typed in the email field is kept only when it looks like
an email address, because people do type their password there.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera import audit_vocabulary as events
from tessera.model import AuditEntry, User

EMAIL_SHOWN = 100
_NOT_AN_EMAIL = "(not an email address)"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One sign-in: where it came from, and through what (the sign-in page, or the password
    grant of a client)."""

    account_id: int
    email: str  # as typed, stripped and lowercased
    ip_address: str | None
    client_name: str | None  # None: the sign-in page
    now: float

    @property
    def typed(self) -> str:
        looks_like_email = "@" in self.email and " " not in self.email
        return self.email[:EMAIL_SHOWN] if looks_like_email else _NOT_AN_EMAIL

    @property
    def via(self) -> str:
        if self.client_name is None:
            return "on the sign-in page"
        return f"through the password grant of {self.client_name[:100]}"


def _name(user: User) -> str:
    return user.name or user.email


def succeeded(attempt: Attempt, user: User) -> AuditEntry:
    return events.entry(
        attempt.account_id,
        events.Actor(user.id, _name(user), attempt.ip_address),
        events.SIGN_IN,
        events.USER,
        user.id,
        user.email,
        f"{_name(user)} signed in with a password {attempt.via}",
        attempt.now,
    )


def failed(attempt: Attempt, user: User | None, failures: int) -> AuditEntry:
    """The entry for a wrong email or password, given the failures counted for the email
    (0 when the throttles are off)."""
    reason = "the password was wrong" if user is not None else "no user of this account has this email"
    counted = f" (failure {failures} in the current window)" if failures else ""
    return events.entry(
        attempt.account_id,
        events.Actor(None, attempt.typed, attempt.ip_address),
        events.SIGN_IN_FAILED,
        events.USER,
        None if user is None else user.id,
        attempt.typed if user is None else user.email,
        f"Failed sign-in {attempt.via}: {reason}{counted}",
        attempt.now,
    )


def refused_suspended(attempt: Attempt, user: User) -> AuditEntry:
    return events.entry(
        attempt.account_id,
        events.Actor(None, attempt.typed, attempt.ip_address),
        events.SIGN_IN_FAILED,
        events.USER,
        user.id,
        user.email,
        f"Sign-in refused {attempt.via}: {_name(user)} is suspended",
        attempt.now,
    )
