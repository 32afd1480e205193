"""Password sign-in with throttling, shared by the login page and the password grant."""

from __future__ import annotations

from tessera import passwords, sign_in_events
from tessera.model import User
from tessera.protocol.ports import SignInRefused
from tessera.settings import Settings
from tessera.storage.login_failures import SqlLoginFailureStore
from tessera.storage.users import SqlUserStore

WRONG = "the email or password is wrong"
SUSPENDED = "this user account is suspended; contact an admin of the account to restore it"


class PasswordAuthenticator:
    def __init__(self, users: SqlUserStore, failures: SqlLoginFailureStore, settings: Settings) -> None:
        self.users = users
        self.failures = failures
        self.limit = settings.login_max_failures
        self.window = settings.login_failure_window

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
        wait = await self.failures.blocked_for(account_id, email, now, self.limit, self.window)
        if wait is not None:
            raise SignInRefused(
                f"too many failed sign-ins for this email ({self.limit} in {self.window // 60} minutes); "
                f"try again in {max(1, (wait + 59) // 60)} minutes",
                retry_after=wait,
            )
        user = await self.users.find_by_email(account_id, email)
        if not await passwords.verify(user.password_hash if user else None, password):
            await self.failures.record(account_id, email, now, self.window, sign_in_events.failed(attempt, user))
            raise SignInRefused(WRONG)
        assert user is not None
        if user.is_suspended:
            # Checked only once the password is known right, so that the answer never tells
            # a guesser whether a password was right (INTERFACE.md section 6, "Users").
            await self.failures.clear(account_id, email, sign_in_events.refused_suspended(attempt, user))
            raise SignInRefused(SUSPENDED)
        await self.failures.clear(account_id, email, sign_in_events.succeeded(attempt, user))
        if passwords.needs_rehash(user.password_hash):
            # The hashing parameters were raised since this hash was made (passwords.py);
            # the password is at hand only now, so store it hashed with today's.
            await self.users.replace_hash(account_id, user.id, user.password_hash, await passwords.rehash(password))
        return user
