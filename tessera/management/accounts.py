"""Accounts: a subdomain is a DNS label (RFC 1035 section 2.3.1, lower-cased)."""

from __future__ import annotations

import re
import time

from tessera import shown_text
from tessera.management import audit_events as ev
from tessera.management.errors import ManagementError, NotFound
from tessera.model import REGISTRATION_POLICIES, Account, AuditEntry
from tessera.storage.errors import Duplicate
from tessera.storage.stores import Stores

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_subdomain(subdomain: str) -> str:
    if not _LABEL.match(subdomain):
        raise ManagementError(
            f"subdomain {subdomain!r} is not valid: use 1-63 lower-case letters, digits and hyphens, "
            "not starting or ending with a hyphen"
        )
    return subdomain


async def create(stores: Stores, subdomain: str, name: str | None, now: float) -> Account:
    check_subdomain(subdomain)
    name = (name or subdomain).strip()
    if not name or len(name) > 255:
        raise ManagementError("account name must be 1 to 255 characters")
    if shown_text.CONTROL.search(name):
        raise ManagementError("account name may not contain control characters")
    shown = shown_text.name_problem("account name", name)
    if shown is not None:
        raise ManagementError(str(shown))
    try:
        return await stores.accounts.create(subdomain, name, now)
    except Duplicate:
        raise ManagementError(f"an account with subdomain {subdomain!r} already exists") from None


async def get(stores: Stores, subdomain: str) -> Account:
    account = await stores.accounts.by_subdomain(subdomain)
    if account is None:
        hint = f"; create it with: tessera accounts create {subdomain}" if _LABEL.match(subdomain) else ""
        raise NotFound(f"no account with subdomain {subdomain!r}{hint}")
    return account


async def set_registration_policy(
    stores: Stores, subdomain: str, policy: str, actor: ev.Actor = ev.SYSTEM_ACTOR, now: float | None = None
) -> Account:
    """Who may register clients at the account's registration endpoint (RFC 7591 section 3);
    a change is written to the audit log."""
    if policy not in REGISTRATION_POLICIES:
        raise ManagementError(f"registration policy {policy!r} is not one of: {', '.join(REGISTRATION_POLICIES)}")
    account = await get(stores, subdomain)
    when = time.time() if now is None else now

    def record(updated: Account | None) -> list[AuditEntry]:
        if updated is None or account.registration_policy == policy:
            return []
        change = f"changed the dynamic client registration policy from {account.registration_policy} to {policy}"
        return [ev.entry(account.id, actor, ev.UPDATE, ev.ACCOUNT, account.id, account.subdomain, change, when)]

    updated = await stores.accounts.set_registration_policy(account.id, policy, record)
    if updated is None:  # deleted meanwhile
        raise NotFound(f"no account with subdomain {subdomain!r}")
    return updated
