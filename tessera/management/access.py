"""Who may administer an account (INTERFACE.md section 6): its admins, and nobody else.

The web adapters call require_admin with the signed-in user or the token's user; the CLI
acts as the operator (audit_events.SYSTEM_ACTOR) and needs no check. A user of another
account never reaches here: their token or session is refused by the account host.
"""

from __future__ import annotations

from tessera.management.audit_events import Actor
from tessera.management.errors import Forbidden
from tessera.model import User


def require_admin(user: User) -> None:
    if user.is_suspended:
        raise Forbidden("this user is suspended; an admin of the account must lift the suspension")
    if not user.is_admin:
        raise Forbidden(
            f"only admins of the account may do this; you are signed in as {user.email}, whose role is {user.role!r}"
        )


def actor_of(user: User, ip_address: str | None = None) -> Actor:
    """The audit log's name for a user acting."""
    return Actor(user.id, user.name, ip_address)
