"""Users of an account (INTERFACE.md sections 1, 3 and 6): creating, changing, suspending.

A suspended user cannot sign in, and their sessions and tokens stop working at once (the
suspension ends them in its own transaction). The last active admin of an account cannot
be demoted or suspended: someone must be able to administer it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from tessera import passwords, shown_text, throttling
from tessera.management import audit_events as ev
from tessera.management.errors import Invalid, NotFound, Problems
from tessera.model import ROLES, Account, AuditEntry, User
from tessera.reasons import R_
from tessera.storage.errors import Duplicate, LastAdmin
from tessera.storage.stores import Stores
from tessera.storage.users import Changed, UserChange

# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
# Stored for a user created without a password: no argon2 hash has this form, so no
# password ever matches it, until one is set.
UNUSABLE_PASSWORD = "!unusable"


def check_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid.one(
            "email", R_("email %(email)s is not a valid address (expected name@example.com)", email=repr(email[:80]))
        )
    return email


def _check_name(problems: Problems, name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        problems.add("name", R_("name must be 1 to 255 characters"))
    elif shown_text.CONTROL.search(name):
        problems.add("name", R_("%(field)s may not contain control characters", field="name"))
    elif (shown := shown_text.name_problem("name", name)) is not None:
        problems.add("name", shown)
    return name


def _check_role(problems: Problems, role: str) -> None:
    if role not in ROLES:
        problems.add("role", R_("role %(role)s is not one of: %(roles)s", role=repr(role[:40]), roles=", ".join(ROLES)))


def password_context(account: Account, email: str, name: str | None) -> tuple[str, ...]:
    """What a guesser targeting this user tries first: refused as (part of) a password."""
    return tuple(word for word in (email, name, account.subdomain, account.name) if word)


async def _hash(password: str) -> str:
    """An admin's choice (the CLI, the API, the console): the interface's 8-character rule
    (passwords.check_length); the reset page, where users choose, also judges strength."""
    try:
        return await asyncio.to_thread(passwords.hash_admin_set, password)
    except passwords.PasswordProblem as problem:
        raise Invalid.one("password", problem.reason) from None


def _entry(account_id: int, actor: ev.Actor, action: str, user: User, change: str, now: float) -> AuditEntry:
    return ev.entry(account_id, actor, action, ev.USER, user.id, f"{user.name} ({user.email})", change, now)


async def create(
    stores: Stores,
    account: Account,
    email: str,
    password: str | None,
    role: str,
    name: str | None,
    now: float,
    actor: ev.Actor = ev.SYSTEM_ACTOR,
) -> User:
    """A new user; without a password (API, console) they cannot sign in until one is set."""
    problems = Problems()
    try:
        email = check_email(email)
    except Invalid as problem:
        problems.fields |= problem.fields
    _check_role(problems, role)
    name = _check_name(problems, name or email.split("@", 1)[0])
    if password is not None:
        try:
            passwords.check_length(password)
        except passwords.PasswordProblem as problem:
            problems.add("password", problem.reason)
    problems.check()
    password_hash = UNUSABLE_PASSWORD if password is None else await _hash(password)

    def record(user: User) -> list[AuditEntry]:
        return [_entry(account.id, actor, ev.CREATE, user, f"created the user with role {user.role}", now)]

    try:
        return await stores.users.create(account.id, email, name, role, password_hash, now, record)
    except Duplicate:
        raise Invalid.one(
            "email",
            R_(
                "a user with email %(email)s already exists on account %(account)s",
                email=repr(email),
                account=repr(account.subdomain),
            ),
        ) from None


async def by_email(stores: Stores, account: Account, email: str) -> User:
    user = await stores.users.find_by_email(account.id, email)
    if user is None:
        raise NotFound(f"no user with email {email!r} on account {account.subdomain!r}")
    return user


async def list_users(stores: Stores, account: Account, *, after_id: int = 0, limit: int = 100) -> list[User]:
    return await stores.users.list_page(account.id, after_id=after_id, limit=limit)


async def get(stores: Stores, account: Account, user_id: int) -> User:
    user = await stores.users.get_fresh(account.id, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id} on account {account.subdomain!r}")
    return user


@dataclass(frozen=True)
class UserChanges:
    """A partial update: None stays as it is. suspended=True suspends, False lifts it."""

    name: str | None = None
    role: str | None = None
    suspended: bool | None = None


def _entries(account_id: int, actor: ev.Actor, changed: Changed | None, now: float) -> list[AuditEntry]:
    if changed is None:
        return []
    before, after = changed.before, changed.after
    entries = []
    what = ["name"] if before.name != after.name else []
    if before.role != after.role:
        what.append(f"role from {before.role} to {after.role}")
    if what:
        entries.append(_entry(account_id, actor, ev.UPDATE, after, "changed " + ", ".join(what), now))
    if after.is_suspended and not before.is_suspended:
        change = "suspended the user, ending their sessions and tokens"
        entries.append(_entry(account_id, actor, ev.SUSPEND, after, change, now))
    if before.is_suspended and not after.is_suspended:
        entries.append(_entry(account_id, actor, ev.UNSUSPEND, after, "lifted the suspension", now))
    return entries


async def update(
    stores: Stores, account: Account, user_id: int, changes: UserChanges, actor: ev.Actor, now: float
) -> User:
    """Change name, role or suspension (Invalid, NotFound). Suspending ends the user's
    sessions and tokens at once; the last active admin cannot be demoted or suspended."""
    problems = Problems()
    name = None if changes.name is None else _check_name(problems, changes.name)
    if changes.role is not None:
        _check_role(problems, changes.role)
    problems.check()
    change = UserChange(name=name, role=changes.role, suspended=changes.suspended)
    try:
        changed = await stores.users.update(
            account.id, user_id, change, now, lambda result: _entries(account.id, actor, result, now)
        )
    except LastAdmin:
        field = "role" if changes.role is not None and changes.role != "admin" else "suspended"
        raise Invalid.one(
            field,
            R_("user %(user)s is the account's last active admin: make another user an admin first", user=user_id),
        ) from None
    if changed is None:
        raise NotFound(f"no user with id {user_id} on account {account.subdomain!r}")
    return changed.after


async def is_last_active_admin(stores: Stores, account: Account, user: User) -> bool:
    """Whether `user` is the account's only active admin, whom `update` will neither demote
    nor suspend: a page can say so before offering to."""
    if user.role != "admin" or user.is_suspended:
        return False
    return await stores.users.other_active_admins(account.id, user.id) == 0


async def set_password(
    stores: Stores, account: Account, user_id: int, password: str, actor: ev.Actor, now: float
) -> None:
    """A new password (8 or more characters, else Invalid); NotFound for an unknown id."""
    existing = await get(stores, account, user_id)
    password_hash = await _hash(password)

    def record(user: User | None) -> list[AuditEntry]:
        return [] if user is None else [_entry(account.id, actor, ev.SET_PASSWORD, user, "set a new password", now)]

    if await stores.users.set_password(account.id, user_id, password_hash, now, record) is None:
        raise NotFound(f"no user with id {user_id} on account {account.subdomain!r}")
    # An admin who sets a password also lifts the sign-in throttle of the user's email, so a
    # user an attacker keeps throttled can be let back in at once (docs/security.md).
    await stores.throttles.clear(throttling.SIGN_IN_EMAIL, throttling.email_key(account.id, existing.email))


async def sign_in_throttled_for(stores: Stores, account: Account, user: User, now: float) -> int | None:
    """Seconds until the user's email may try to sign in again, or None (docs/security.md)."""
    return await stores.throttles.blocked_for(
        throttling.SIGN_IN_EMAIL, throttling.email_key(account.id, user.email), now
    )


async def lift_sign_in_throttle(stores: Stores, account: Account, user_id: int, actor: ev.Actor, now: float) -> User:
    """Forget the failed sign-ins of the user's email, so they may sign in at once; audited."""
    user = await get(stores, account, user_id)
    change = "lifted the sign-in throttle of this email"
    entry = _entry(account.id, actor, ev.LIFT_THROTTLE, user, change, now)
    await stores.throttles.clear(throttling.SIGN_IN_EMAIL, throttling.email_key(account.id, user.email), (entry,))
    return user
