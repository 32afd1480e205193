"""Password sign-in with throttling, shared by the login page and the password grant."""

from __future__ import annotations

from tessera import passwords, sign_in_events
from tessera.model import User
from tessera.protocol.ports import SignInRefused
from tessera.storage.audit import SqlAuditStore
from tessera.storage.users import SqlUserStore
from tessera.throttling import Throttles

WRONG = "the email or password is wrong"
SUSPENDED = "this user account is suspended; contact an admin of the account to restore it"


def throttled(wait: int) -> SignInRefused:
    minutes = f"{(wait + 59) // 60} minutes" if wait > 90 else f"{wait} seconds"
    return SignInRefused(
        f"too many failed sign-ins from here or for this email; try again in {minutes}", retry_after=wait
    )


class PasswordAuthenticator:
    def __init__(self, users: SqlUserStore, throttles: Throttles, audit: SqlAuditStore) -> None:
        self.users = users
        self.throttles = throttles
        self.audit = audit

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
        attempt = sign_in_events.Attempt(account_id, email, ip_address, client_name, now)
        # Counted before the password is checked (tessera/throttling.py): of a burst, only
        # the attempts the limit lets through are checked at all, right password or not.
        counted = await self.throttles.sign_in_attempt(account_id, email, ip_address, now)
        if not counted.admitted:
            raise throttled(counted.retry_after)
        user = await self.users.find_by_email(account_id, email)
        if not await passwords.verify(user.password_hash if user else None, password):
            await self.audit.record(sign_in_events.failed(attempt, user, counted.failures))
            raise SignInRefused(WRONG)
        assert user is not None
        if user.is_suspended:
            # Checked only once the password is known right: someone without it is told
            # "wrong password" and learns nothing of the suspension; the owner, who knows
            # the password, is told why they cannot sign in (INTERFACE.md section 6, "Users").
            entry = sign_in_events.refused_suspended(attempt, user)
            await self.throttles.sign_in_succeeded(account_id, email, ip_address, entry)
            raise SignInRefused(SUSPENDED)
        await self.throttles.sign_in_succeeded(account_id, email, ip_address, sign_in_events.succeeded(attempt, user))
        if passwords.needs_rehash(user.password_hash):
            # The hashing parameters were raised since this hash was made (passwords.py);
            # the password is at hand only now, so store it hashed with today's.
            await self.users.replace_hash(account_id, user.id, user.password_hash, await passwords.rehash(password))
        return user
