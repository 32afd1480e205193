"""Password sign-in with throttling, shared by the login page and the password grant."""

from __future__ import annotations

from tessera import passwords
from tessera.model import User
from tessera.protocol.ports import SignInRefused
from tessera.settings import Settings
from tessera.storage.login_failures import SqlLoginFailureStore
from tessera.storage.users import SqlUserStore

WRONG = "the email or password is wrong"
SUSPENDED = "this user is suspended and cannot sign in; ask an admin of the account to lift the suspension"


class PasswordAuthenticator:
    def __init__(self, users: SqlUserStore, failures: SqlLoginFailureStore, settings: Settings) -> None:
        self.users = users
        self.failures = failures
        self.limit = settings.login_max_failures
        self.window = settings.login_failure_window

    async def authenticate(self, account_id: int, email: str, password: str, now: float) -> User:
        email = email.strip().lower()
        wait = await self.failures.blocked_for(account_id, email, now, self.limit, self.window)
        if wait is not None:
            raise SignInRefused(
                f"too many failed sign-ins for this email ({self.limit} in {self.window // 60} minutes); "
                f"try again in {max(1, (wait + 59) // 60)} minutes",
                retry_after=wait,
            )
        user = await self.users.find_by_email(account_id, email)
        if not await passwords.verify(user.password_hash if user else None, password):
            await self.failures.record(account_id, email, now, self.window)
            raise SignInRefused(WRONG)
        assert user is not None
        await self.failures.clear(account_id, email)
        if user.is_suspended:
            # Said only after the right password, so that it reveals nothing to a guesser.
            raise SignInRefused(SUSPENDED)
        return user
