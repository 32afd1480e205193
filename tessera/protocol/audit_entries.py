"""The audit entries the protocol decides on (INTERFACE.md section 6): a code presented
again, a used refresh token presented again, a token revoked by its client (RFC 7009).

The stores write each in the same transaction as the revocation it records. An entry names
the client, the user and what was revoked, never the code or token itself, nor any part of it.
"""

from __future__ import annotations

from tessera import audit_vocabulary as events
from tessera.model import AuditEntry, Client, User


def _user_words(user: User | None, user_id: int) -> str:
    return f"user #{user_id}" if user is None else f"{user.name or user.email} ({user.email})"


def _system(ip_address: str | None) -> events.Actor:
    # Nobody chose to revoke: the server did, on seeing the request from this address.
    return events.Actor(None, events.SYSTEM, ip_address)


def code_replay(
    account_id: int, client: Client, user: User | None, user_id: int, ip_address: str | None, now: float
) -> AuditEntry:
    return events.entry(
        account_id,
        _system(ip_address),
        events.CODE_REPLAY,
        events.OAUTH_TOKEN,
        None,
        client.name,
        f"An authorization code of {client.name} for {_user_words(user, user_id)} was presented again after "
        "its use; every token issued from it was revoked",
        now,
    )


def refresh_reuse(
    account_id: int, client: Client, user: User | None, user_id: int, ip_address: str | None, now: float
) -> AuditEntry:
    return events.entry(
        account_id,
        _system(ip_address),
        events.REFRESH_REUSE,
        events.OAUTH_TOKEN,
        None,
        client.name,
        f"A used refresh token of {client.name} for {_user_words(user, user_id)} was presented again after the "
        "grace window, as a stolen one would be; every token of that authorization was revoked",
        now,
    )


def token_revoked(
    account_id: int,
    client: Client,
    user: User | None,
    user_id: int,
    access_token_id: int | None,
    refresh: bool,
    ip_address: str | None,
    now: float,
) -> AuditEntry:
    """`access_token_id`: the token revoked, or the one a revoked refresh token was issued with."""
    if refresh:
        what = "a refresh token and every token of its authorization"
    else:
        what = f"the access token with id {access_token_id}"
    name = f"user #{user_id}" if user is None else user.name or user.email
    return events.entry(
        account_id,
        events.Actor(user_id, name, ip_address),
        events.REVOKE,
        events.OAUTH_TOKEN,
        access_token_id,
        client.name,
        f"{client.name} revoked {what} of {_user_words(user, user_id)} at the revocation endpoint (RFC 7009)",
        now,
    )
