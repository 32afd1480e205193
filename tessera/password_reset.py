"""Password reset by e-mail (docs/password-reset.md), between the pages and the stores.

1. `request`: counted by the throttles first (per account+email and per source address,
   whether or not the email has a user), then, only for an active user, a 256-bit token is
   made, its SHA-256 digest stored (earlier links of the user stop working) and the link
   e-mailed in the background (mail.py). The caller answers the same in every case.
2. `usable`: whether a link's token still works (the page shows the form, or says why not).
3. `complete`: the new password, checked by the same rules as everywhere a password is set
   (passwords.py), is stored while the token is spent, the user's other tokens are spent and
   their sessions end, all in one transaction (storage/password_resets.py), audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from tessera import audit_vocabulary as ev
from tessera import i18n, mail, passwords, throttling
from tessera.management.users import password_context
from tessera.model import Account, AuditEntry, User
from tessera.reasons import N_
from tessera.settings import Settings
from tessera.storage.audit import SqlAuditStore
from tessera.storage.password_resets import PasswordReset
from tessera.storage.users import SqlUserStore

TOKEN_BYTES = 32  # 256 bits


class ResetStore(Protocol):
    """The port storage/password_resets.py implements."""

    async def create(self, account_id: int, user_id: int, digest: bytes, now: float, expires_at: float) -> int: ...

    async def find_usable(self, account_id: int, digest: bytes, now: float) -> PasswordReset | None: ...

    async def complete(
        self, account_id: int, digest: bytes, password_hash: str, now: float, record: _Record
    ) -> User | None: ...


class _Record(Protocol):
    def __call__(self, user: User | None, /) -> list[AuditEntry]: ...


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True, slots=True)
class Requested:
    """What a request came to: None, or the seconds to wait when throttled."""

    retry_after: int | None


class PasswordResets:
    def __init__(
        self,
        resets: ResetStore,
        users: SqlUserStore,
        audit: SqlAuditStore,
        throttles: throttling.Throttles,
        mailer: mail.Mailer,
        lifetime: int,
    ) -> None:
        self.resets = resets
        self.users = users
        self.audit = audit
        self.throttles = throttles
        self.mailer = mailer
        self.lifetime = lifetime

    async def request(
        self,
        account: Account,
        email: str,
        address: str | None,
        now: float,
        reset_page_url: str,
        language: str = i18n.DEFAULT,
    ) -> Requested:
        """Count the request; then, after the page has answered, e-mail a link when the
        address has an active user. Looking the user up, storing the token and sending all
        happen in the background, so the answer takes as long whoever the address belongs to."""
        email = email.strip().lower()
        wait = await self.throttles.password_reset_attempt(account.id, email, address, now)
        if wait is not None:
            return Requested(wait)
        self.mailer.later(self._send_link(account, email, address, now, reset_page_url, language), "password reset")
        return Requested(None)

    async def _send_link(
        self, account: Account, email: str, address: str | None, now: float, page: str, language: str
    ) -> None:
        user = await self.users.find_by_email(account.id, email)
        if user is None or user.is_suspended:
            return  # nothing is sent, and the page said the same as when a link leaves
        token = secrets.token_urlsafe(TOKEN_BYTES)
        await self.resets.create(account.id, user.id, digest(token), now, now + self.lifetime)
        actor = ev.Actor(None, ev.SYSTEM, address)
        change = f"e-mailed a password reset link valid for {self.lifetime // 60} minutes"
        await self.audit.record(_entry(account, actor, ev.REQUEST_PASSWORD_RESET, user, change, now))
        link = f"{page}?token={token}"
        await self.mailer.deliver(
            reset_email(self.mailer.settings, account, user, link, self.lifetime, language), "password reset"
        )

    async def usable(self, account: Account, token: str, now: float) -> tuple[PasswordReset, User] | None:
        if not token or len(token) > 100:
            return None
        reset = await self.resets.find_usable(account.id, digest(token), now)
        if reset is None:
            return None
        user = await self.users.get_fresh(account.id, reset.user_id)
        if user is None or user.is_suspended:
            return None
        return reset, user

    async def complete(
        self, account: Account, token: str, user: User, password: str, address: str | None, now: float
    ) -> User | None:
        """Raises passwords.PasswordProblem for a password the rules refuse; None when the
        token stopped working meanwhile (used in another tab, expired)."""
        context = password_context(account, user.email, user.name)
        password_hash = await asyncio.to_thread(passwords.hash_password, password, context)
        actor = ev.Actor(user.id, user.name, address)

        def record(done: User | None) -> list[AuditEntry]:
            if done is None:
                return []
            change = "set a new password through an e-mailed reset link; signed out everywhere"
            return [_entry(account, actor, ev.RESET_PASSWORD, done, change, now)]

        return await self.resets.complete(account.id, digest(token), password_hash, now, record)


def _entry(account: Account, actor: ev.Actor, action: str, user: User, change: str, now: float) -> AuditEntry:
    return ev.entry(account.id, actor, action, ev.USER, user.id, f"{user.name} ({user.email})", change, now)


def reset_email(
    settings: Settings, account: Account, user: User, link: str, lifetime: int, language: str = i18n.DEFAULT
) -> EmailMessage:
    """The e-mail, in the language of the page that asked for it (tessera/i18n.py)."""
    catalog = i18n.translations(language)
    minutes = lifetime // 60
    values = {"name": user.name, "account": account.name, "email": user.email, "minutes": minutes}
    paragraphs = [
        catalog.gettext(N_("Hello %(name)s,")) % values,
        catalog.gettext(
            N_(
                "Someone asked to reset the password of %(email)s on %(account)s. If it was you, open this "
                "link to choose a new password:"
            )
        )
        % values,
        link,
        catalog.ngettext(
            "The link works once, for %(minutes)d minute. Setting a new password signs you out on every device.",
            "The link works once, for %(minutes)d minutes. Setting a new password signs you out on every device.",
            minutes,
        )
        % values,
        catalog.gettext(N_("If you did not ask for this, ignore this e-mail: your password stays as it is.")),
    ]
    subject = catalog.gettext(N_("Reset your %(account)s password")) % values
    return mail.message(settings, user.email, subject, "\n\n".join(paragraphs) + "\n")
