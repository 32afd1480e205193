"""Users of an account."""

from __future__ import annotations

import asyncio
import re

from tessera import passwords
from tessera.management.errors import ManagementError, NotFound
from tessera.model import ROLES, Account, User
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores

# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def check_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ManagementError(f"email {email!r} is not a valid address (expected name@example.com)")
    return email


async def create(
    stores: Stores, account: Account, email: str, password: str, role: str, name: str | None, now: float
) -> User:
    email = check_email(email)
    if role not in ROLES:
        raise ManagementError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    try:
        password_hash = await asyncio.to_thread(passwords.hash_password, password)
    except passwords.PasswordProblem as problem:
        raise ManagementError(str(problem)) from None
    name = (name or email.split("@", 1)[0]).strip()
    if not name or len(name) > 255:
        raise ManagementError("name must be 1 to 255 characters")
    try:
        return await stores.users.create(account.id, email, name, role, password_hash, now)
    except Duplicate:
        raise ManagementError(f"a user with email {email!r} already exists on account {account.subdomain!r}") from None


async def by_email(stores: Stores, account: Account, email: str) -> User:
    user = await stores.users.find_by_email(account.id, email)
    if user is None:
        raise NotFound(f"no user with email {email!r} on account {account.subdomain!r}")
    return user
