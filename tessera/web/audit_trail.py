"""Who did it, as the audit log names them (INTERFACE.md section 6): the signed-in user or
the token's user, and the address the request came from.

The address is the ASGI scope's `client`: uvicorn puts the peer there, or, when the peer
is a proxy it trusts (uvicorn's default: one on the same machine, 127.0.0.1), the address
that proxy forwarded in X-Forwarded-For. No header is read here; a proxy in front must set
X-Forwarded-For itself rather than pass on the caller's (docs/security.md).
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from tessera import audit_vocabulary as events
from tessera.model import Account, AuditEntry, Client, User
from tessera.web import sessions
from tessera.web.services import Services

# A consent's scope list is a sentence in the log, not a field: cut at a length people read.
_SCOPES_SHOWN = 500


def client_address(request: HTTPConnection) -> str | None:
    client = request.scope.get("client")
    return None if not client else str(client[0])[:64]


def user_actor(user: User, request: HTTPConnection) -> events.Actor:
    return events.Actor(user.id, user_name(user), client_address(request))


def user_name(user: User) -> str:
    return user.name or user.email


async def sign_out(services: Services, request: Request, account: Account) -> AuditEntry | None:
    """The entry for ending this request's session, or None when nobody is signed in."""
    current = await sessions.current(request, services, account)
    user = None if current is None else await services.stores.users.get(account.id, current.user_id)
    if user is None:
        return None
    return events.entry(
        account.id,
        user_actor(user, request),
        events.SIGN_OUT,
        events.USER,
        user.id,
        user.email,
        f"{user_name(user)} signed out",
        services.now(),
    )


def _scope_words(scopes: tuple[str, ...]) -> str:
    return (" ".join(scopes) or "no scopes")[:_SCOPES_SHOWN]


async def _actor(services: Services, request: HTTPConnection, account: Account, user_id: int) -> events.Actor:
    user = await services.stores.users.get(account.id, user_id)
    if user is None:  # deleted while signed in: still say who, by id
        return events.Actor(user_id, f"user #{user_id}", client_address(request))
    return user_actor(user, request)


async def consent_given(
    services: Services,
    request: HTTPConnection,
    account: Account,
    user_id: int,
    client: Client,
    scopes: tuple[str, ...],
) -> AuditEntry:
    actor = await _actor(services, request, account, user_id)
    return events.entry(
        account.id,
        actor,
        events.AUTHORIZE,
        events.CONSENT,
        client.id,
        client.name,
        f"{actor.name} authorized {client.name} for the scopes: {_scope_words(scopes)}",
        services.now(),
    )


async def consent_withdrawn(
    services: Services, request: HTTPConnection, account: Account, user_id: int, client: Client
) -> AuditEntry:
    actor = await _actor(services, request, account, user_id)
    return events.entry(
        account.id,
        actor,
        events.REVOKE,
        events.CONSENT,
        client.id,
        client.name,
        f"{actor.name} revoked the access of {client.name}: its consent and every token it held for them",
        services.now(),
    )
