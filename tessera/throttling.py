"""The throttles of INTERFACE.md section 9: failed sign-ins per account+email and per source
address, failed client authentication per client and per source address, wrong user codes
of the device grant per signed-in user and per source address (RFC 8628 section 5.1),
password-reset e-mails per account+email and per source address, each
per account (docs/reliability.md, "Throttles"). The counters live in the database (storage/throttles.py)
so the limits hold across nodes; the schedule is backoff.Rule's.

Sign-ins are counted before the password is checked, so a burst cannot pass before the
counter moves and a throttled sign-in is refused even with the right password; a right
password then clears the email's counter and takes its attempt back from the address's.

Client authentication is the hot path: a success must neither write nor read anything more.
So only failures are counted, and a refusal the database reports is also remembered here
until it ends; a client or address remembered as waiting is refused before its secret is
looked at. A node learns of a refusal at the first failure it counts during it, so across
N nodes at most N guesses are looked at during one wait.
"""

from __future__ import annotations

from tessera import metrics
from tessera.backoff import Rule
from tessera.model import AuditEntry
from tessera.settings import Settings
from tessera.storage.throttles import Counted, SqlThrottleStore

SIGN_IN_EMAIL = "sign_in_email"
SIGN_IN_ADDRESS = "sign_in_address"
CLIENT_AUTH_CLIENT = "client_auth_client"
CLIENT_AUTH_ADDRESS = "client_auth_address"
USER_CODE_USER = "user_code_user"
USER_CODE_ADDRESS = "user_code_address"
REGISTRATION_ADDRESS = "registration_address"
PASSWORD_RESET_EMAIL = "password_reset_email"
PASSWORD_RESET_ADDRESS = "password_reset_address"
# Refusals remembered at most; past it, the ended ones are forgotten (then all of them).
_REMEMBERED = 10_000


def _key(account_id: int, name: str) -> str:
    return f"{account_id}:{name}"


def email_key(account_id: int, email: str) -> str:
    """The key of an email's sign-in counter (SIGN_IN_EMAIL)."""
    return _key(account_id, email.strip().lower())


class Throttles:
    def __init__(self, store: SqlThrottleStore, settings: Settings) -> None:
        self.store = store
        self.on = settings.throttle
        window, wait = settings.throttle_window, settings.throttle_backoff
        self.sign_in_email = Rule(SIGN_IN_EMAIL, settings.throttle_sign_in_per_email, window, wait)
        self.sign_in_address = Rule(SIGN_IN_ADDRESS, settings.throttle_sign_in_per_address, window, wait)
        self.client = Rule(CLIENT_AUTH_CLIENT, settings.throttle_client_auth_per_client, window, wait)
        self.client_address = Rule(CLIENT_AUTH_ADDRESS, settings.throttle_client_auth_per_address, window, wait)
        self.user_code_user = Rule(USER_CODE_USER, settings.throttle_user_code_per_user, window, wait)
        self.user_code_address = Rule(USER_CODE_ADDRESS, settings.throttle_user_code_per_address, window, wait)
        self.registration = Rule(REGISTRATION_ADDRESS, settings.throttle_registration_per_address, window, wait)
        self.reset_email = Rule(PASSWORD_RESET_EMAIL, settings.throttle_password_reset_per_email, window, wait)
        self.reset_address = Rule(PASSWORD_RESET_ADDRESS, settings.throttle_password_reset_per_address, window, wait)
        self._refused_until: dict[tuple[str, str], float] = {}

    # Sign-in (the login page and the password grant).

    def _sign_in_counts(self, account_id: int, email: str, address: str | None) -> list[tuple[Rule, str]]:
        counts = [] if address is None else [(self.sign_in_address, _key(account_id, address))]
        return [*counts, (self.sign_in_email, _key(account_id, email))]

    async def sign_in_attempt(self, account_id: int, email: str, address: str | None, now: float) -> Counted:
        """Count a sign-in before its password is checked: let through, with the email's
        failures so far (this attempt included), or refused for `retry_after` seconds."""
        if not self.on:
            return Counted(True, 0, 0)
        met = await self.store.attempt(self._sign_in_counts(account_id, email, address), now)
        refused = _refusal(met)
        if refused is None:
            return Counted(True, met[-1].failures, 0)
        metrics.throttled("sign_in")
        return Counted(False, 0, refused)

    async def sign_in_succeeded(self, account_id: int, email: str, address: str | None, audit: AuditEntry) -> None:
        """The password was right: the email starts afresh, the address gets its attempt back."""
        if not self.on:
            await self.store.succeeded((), (), (audit,))
            return
        refunds = [] if address is None else [(self.sign_in_address, _key(account_id, address))]
        await self.store.succeeded([(SIGN_IN_EMAIL, _key(account_id, email))], refunds, (audit,))

    # User codes entered on the device pages (RFC 8628 sections 5.1 and 6.1): 8 letters
    # are 34 bits, safe only while guesses are few. Counted before the code is looked up,
    # as sign-ins are; a right code takes its attempts back.

    def _user_code_counts(self, account_id: int, user_id: int, address: str | None) -> list[tuple[Rule, str]]:
        counts = [] if address is None else [(self.user_code_address, _key(account_id, address))]
        return [*counts, (self.user_code_user, _key(account_id, str(user_id)))]

    async def user_code_attempt(self, account_id: int, user_id: int, address: str | None, now: float) -> int | None:
        """Count a user code before it is looked up: None to go on, or seconds to wait."""
        if not self.on:
            return None
        refused = _refusal(await self.store.attempt(self._user_code_counts(account_id, user_id, address), now))
        if refused is not None:
            metrics.throttled("user_code")
        return refused

    async def user_code_right(self, account_id: int, user_id: int, address: str | None) -> None:
        """The code was right: it was no failure, so its attempts are taken back."""
        if self.on:
            await self.store.succeeded((), self._user_code_counts(account_id, user_id, address))

    # Client authentication (token, revocation and introspection endpoints).

    @property
    def watching(self) -> bool:
        """Whether any refusal is remembered; when not, the success path looks at nothing."""
        return bool(self._refused_until)

    def client_auth_refused(
        self, account_id: int, client_id: str | None, address: str | None, now: float
    ) -> int | None:
        """Seconds to wait when this node knows the client or address is waiting; no I/O."""
        if not self._refused_until:
            return None
        longest = 0.0
        for kind, name in ((CLIENT_AUTH_CLIENT, client_id), (CLIENT_AUTH_ADDRESS, address)):
            known = (kind, _key(account_id, "" if name is None else name))
            until = self._refused_until.get(known)
            if until is not None and until <= now:
                del self._refused_until[known]  # ended: the success path goes back to looking at nothing
            elif until is not None:
                longest = max(longest, until - now)
        if longest <= 0:
            return None
        metrics.throttled("client_authentication")
        return int(longest) + 1

    async def client_auth_failed(
        self, account_id: int, client_id: str | None, address: str | None, now: float
    ) -> int | None:
        """Count a failed client authentication: seconds to wait (429), or None (401)."""
        if not self.on:
            return None
        named = ((self.client_address, address), (self.client, client_id))
        counts = [(rule, _key(account_id, name)) for rule, name in named if name is not None]
        met = await self.store.attempt(counts, now)
        for (rule, key), counted in zip(counts, met, strict=False):
            if counted.retry_after > 0:
                self._remember(rule.kind, key, now, now + counted.retry_after)
        refused = _refusal(met)
        if refused is not None:
            metrics.throttled("client_authentication")
        return refused

    # Open dynamic client registration (RFC 7591): every attempt counts, per source address.

    async def registration_attempt(self, account_id: int, address: str | None, now: float) -> int | None:
        """Count an open registration before it is looked at: seconds to wait (429), or None."""
        if not self.on:
            return None
        met = await self.store.attempt([(self.registration, _key(account_id, address or "unknown"))], now)
        refused = _refusal(met)
        if refused is not None:
            metrics.throttled("registration")
        return refused

    # Password-reset e-mails (docs/password-reset.md): every request counts, per source
    # address and per account+email, whether or not the email has a user (so that the
    # answer, throttled or not, tells nothing about who has an account).

    async def password_reset_attempt(self, account_id: int, email: str, address: str | None, now: float) -> int | None:
        """Count a reset request before anything is looked up: seconds to wait (429), or None."""
        if not self.on:
            return None
        counts = [] if address is None else [(self.reset_address, _key(account_id, address))]
        counts.append((self.reset_email, email_key(account_id, email)))
        refused = _refusal(await self.store.attempt(counts, now))
        if refused is not None:
            metrics.throttled("password_reset")
        return refused

    def _remember(self, kind: str, key: str, now: float, until: float) -> None:
        if len(self._refused_until) >= _REMEMBERED:
            for ended in [known for known, end in self._refused_until.items() if end <= now]:
                del self._refused_until[ended]
            if len(self._refused_until) >= _REMEMBERED:
                self._refused_until.clear()
        self._refused_until[(kind, key)] = until


def _refusal(met: list[Counted]) -> int | None:
    """Seconds to wait when the last count refused its attempt, else None."""
    return None if not met or met[-1].admitted else max(1, met[-1].retry_after)
