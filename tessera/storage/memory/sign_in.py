"""Sign-in by password in process memory (the Authenticator port), with its throttle of
failed attempts per email. Apart because it is a test double of a different kind: the
other stores keep what they are given, this one stands in for argon2id and the throttles.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from tessera.model import User
from tessera.protocol.ports import SignInRefused
from tessera.storage.memory.directory import MemoryUserStore


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
