"""JSON shapes of the Zendesk-style API, shared by the API and the CLI's --json output."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from tessera import paths
from tessera.model import AccessToken, Account, AuditLog, Client, Resource, User
from tessera.tickets import Ticket


def timestamp(value: float | None) -> str | None:
    if value is None:
        return None
    return _iso(int(value))


# Every API answer formats a few timestamps, mostly the same ones (the caller's created_at
# and updated_at); strftime costs more than the rest of building the object.
@functools.lru_cache(maxsize=4096)
def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_json(account: Account, origin: str) -> dict[str, Any]:
    return {
        "id": account.id,
        "subdomain": account.subdomain,
        "name": account.name,
        "url": origin,
        "registration_policy": account.registration_policy,
    }


def user_json(user: User, origin: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "url": f"{origin}{paths.API_USERS}/{user.id}.json",
        "account_id": user.account_id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": not user.is_suspended,
        "suspended": user.is_suspended,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
    }


def client_json(client: Client, origin: str, secret: str | None = None) -> dict[str, Any]:
    """`secret` is the full secret, passed only when it was just generated."""
    shown_secret = secret if secret is not None else (client.secret_prefix or None)
    return {
        "id": client.id,
        # A global client belongs to no account, so no account's clients API serves it (each
        # account lists it under global_clients once its users authorized it): no URL.
        "url": None if client.is_global else f"{origin}{paths.API_CLIENTS}/{client.id}.json",
        "name": client.name,
        "identifier": client.identifier,
        "company": client.company,
        "description": client.description,
        "logo_url": client.logo_url or None,
        "redirect_uri": list(client.redirect_uris),
        "secret": shown_secret,
        "kind": client.kind,
        "global": client.is_global,
        "user_id": client.user_id,
        "grant_types": sorted(client.grant_types),
        "allowed_scopes": list(client.allowed_scopes),
        "access_token_lifetime": client.access_token_lifetime,
        "refresh_token_lifetime": client.refresh_token_lifetime,
        "access_token_format": client.access_token_format,
        "signing_alg": client.signing_alg,
        "introspection": client.introspection,
        # RFC 9126 section 6: authorization requests only through the PAR endpoint.
        "require_pushed_authorization_requests": client.require_par,
        # RFC 9449 section 5.2: tokens are issued only with a DPoP proof, bound to its key.
        "dpop_bound_access_tokens": client.require_dpop,
        # admin, dynamic (registered itself) or metadata_document: the last two are unverified.
        "registration": client.registration,
        # The public JWK set of a private_key_jwt client (RFC 7523); public, so it is shown.
        "jwks": None if client.jwks is None else json.loads(client.jwks),
        "created_at": timestamp(client.created_at),
        "updated_at": timestamp(client.updated_at),
    }


def global_client_json(client: Client, origin: str) -> dict[str, Any]:
    """A third-party app as an account sees it: who made it, never its secret or settings."""
    return {
        "id": client.id,
        "url": f"{origin}/api/v2/oauth/global_clients/{client.id}.json",
        "identifier": client.identifier,
        "name": client.name,
        "company": client.company,
        "description": client.description,
        "logo_url": client.logo_url or None,
    }


def audit_log_json(log: AuditLog, origin: str) -> dict[str, Any]:
    entry = log.entry
    return {
        "id": log.id,
        "url": f"{origin}/api/v2/audit_logs/{log.id}.json",
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "source_id": entry.source_id,
        "source_type": entry.source_type,
        "source_label": entry.source_label,
        "action": entry.action,
        "change_description": entry.change_description,
        "ip_address": entry.ip_address,
        "created_at": timestamp(entry.created_at),
    }


def token_json(
    token: AccessToken,
    origin: str,
    full_token: str | None = None,
    refresh_token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": token.id,
        "url": f"{origin}{paths.API_TOKENS}/{token.id}.json",
        "user_id": token.user_id,
        "client_id": token.client_id,
        "token": token.token_prefix,
        "scopes": list(token.scopes),
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at),
        "used_at": timestamp(token.used_at),
    }
    if full_token is not None:
        body["full_token"] = full_token
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def ticket_json(ticket: Ticket, origin: str) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "url": f"{origin}{paths.API_TICKETS}/{ticket.id}.json",
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
        "requester_id": ticket.requester_id,
        "submitter_id": ticket.requester_id,
        "created_at": timestamp(ticket.created_at),
        "updated_at": timestamp(ticket.updated_at),
    }


def resource_json(resource: Resource, origin: str) -> dict[str, Any]:
    """A registered protected resource (RFC 8707): `uri` is what clients send as `resource`
    and what the `aud` of tokens for it holds; `scopes` empty means any scope."""
    return {
        "id": resource.id,
        "url": f"{origin}{paths.API_RESOURCES}/{resource.id}.json",
        "uri": resource.uri,
        "name": resource.name,
        "scopes": list(resource.scopes),
        "created_at": timestamp(resource.created_at),
    }
