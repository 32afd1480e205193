"""Human passwords: argon2id (RFC 9106) via argon2-cffi.

Parameters: OWASP's recommended argon2id configuration (19 MiB of memory, 2 passes,
1 lane). RFC 9106's first recommendation (2 GiB) is unaffordable per sign-in on a small
node, and its second (64 MiB, 3 passes, 4 lanes) costs ~3x the CPU and memory for a gain
that matters only once a database has leaked. docs/security.md gives the measured cost.
Hashing runs on worker threads, one per core: argon2 releases the GIL, so the event loop
stays free; more threads than cores would not hash faster, and each one running holds
19 MiB (with six, the default pool, a worker's RSS reached 190 MB after a burst of sign-ins).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from tessera import password_strength
from tessera.reasons import R_, Reason

MIN_LENGTH = 8
MAX_LENGTH = 1024

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# Verified when the email is unknown, so that a sign-in takes as long whether or not the
# account has such a user (no user enumeration by timing).
_DUMMY_HASH = HASHER.hash("tessera: no such user")


_HASHING = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="tessera-argon2")


class PasswordProblem(ValueError):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason  # str(self) is the same English, without the Reason a page translates


def check_length(password: str) -> str:
    """The rule every password meets (INTERFACE.md sections 1 and 6: 8 or more characters;
    at most MAX_LENGTH), or PasswordProblem. A password an admin sets (the CLI, the users
    API, the console) is held to this rule alone: the interface promises that any password
    of 8 characters is taken there, and scripts and tests rely on it."""
    if len(password) < MIN_LENGTH:
        raise PasswordProblem(
            R_(
                "password must be at least %(minimum)s characters (it has %(count)s)",
                minimum=MIN_LENGTH,
                count=len(password),
            )
        )
    if len(password) > MAX_LENGTH:
        raise PasswordProblem(R_("password may be at most %(limit)s characters", limit=MAX_LENGTH))
    return password


def check_policy(password: str, context: Iterable[str] = ()) -> str:
    """check_length, and not easy to guess (password_strength.py): the rule for a password a
    user chooses for themselves (the password-reset page, which the interface leaves to
    Tessera), or PasswordProblem saying what is wrong and what to pick instead. `context`:
    words a guesser would try first for this user (email, name, account)."""
    check_length(password)
    weak = password_strength.weakness(password, context)
    if weak is not None:
        raise PasswordProblem(weak)
    return password


def hash_password(password: str, context: Iterable[str] = ()) -> str:
    """The hash of a password the user chose (check_policy)."""
    return HASHER.hash(check_policy(password, context))


def hash_admin_set(password: str) -> str:
    """The hash of a password an admin set (check_length)."""
    return HASHER.hash(check_length(password))


def _verify(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password[:MAX_LENGTH]) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; None stands for an unknown user (always False)."""
    return await asyncio.get_running_loop().run_in_executor(_HASHING, _verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than HASHER's (raised since, say)."""
    return HASHER.check_needs_rehash(stored)


async def rehash(password: str) -> str:
    """A hash with today's parameters of a password that was just verified. No policy check:
    the password is the user's already, and must keep working whatever the rules became.
    Cut at MAX_LENGTH as `verify` cuts it, so that the same input matches."""
    return await asyncio.get_running_loop().run_in_executor(_HASHING, HASHER.hash, password[:MAX_LENGTH])
