"""The OAuth Clients API, as Zendesk shapes it (INTERFACE.md section 6):
/api/v2/oauth/clients(.json), /{id}(.json), PUT /{id}/generate_secret(.json).

Admins only (web/api/admin.py); reading needs clients:read (or read), changing
clients:write (or write). A confidential client's full secret appears once: in the 201 of
its creation and in the answer of generate_secret; afterwards its first 9 characters.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.management import client_secrets
from tessera.management import clients as client_rules
from tessera.management.shapes import client_json
from tessera.web import responses
from tessera.web.api import bodies, paging
from tessera.web.api.admin import actor, path_id
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

KEY = "client"
EXAMPLE = '{"client": {"name": "My app", "identifier": "my_app", "redirect_uri": ["https://app.example.com/cb"]}}'
SETTABLE = (
    "name",
    "identifier",
    "kind",
    "redirect_uri",
    "company",
    "description",
    "logo_url",
    "grant_types",
    "allowed_scopes",
    "access_token_lifetime",
    "refresh_token_lifetime",
    "access_token_format",
    "signing_alg",
    "introspection",
    "require_pushed_authorization_requests",
    "jwks",
    "dpop_bound_access_tokens",
)
# In every answer, set by Tessera: sent back, they are ignored.
READ_ONLY = ("id", "url", "secret", "global", "user_id", "registration", "created_at", "updated_at")
NO_STORE = {"Cache-Control": "no-store"}


def _changes(spec: dict[str, Any]) -> client_rules.ClientChanges:
    bodies.refuse_unknown(spec, KEY, SETTABLE, READ_ONLY)
    lifetime = (
        "never"
        if "access_token_lifetime" in spec and spec["access_token_lifetime"] is None
        else bodies.seconds(spec, KEY, "access_token_lifetime", words=("never",))
    )
    return client_rules.ClientChanges(
        name=bodies.string(spec, KEY, "name"),
        identifier=bodies.string(spec, KEY, "identifier"),
        kind=bodies.string(spec, KEY, "kind"),
        redirect_uris=bodies.strings(spec, KEY, "redirect_uri", separator="\n"),
        company=bodies.string(spec, KEY, "company", null_as=""),
        description=bodies.string(spec, KEY, "description", null_as=""),
        logo_url=bodies.string(spec, KEY, "logo_url", null_as=""),
        grant_types=bodies.strings(spec, KEY, "grant_types", separator=None),
        allowed_scopes=bodies.strings(spec, KEY, "allowed_scopes", separator=None),
        access_token_lifetime=lifetime,
        refresh_token_lifetime=bodies.seconds(spec, KEY, "refresh_token_lifetime"),
        access_token_format=bodies.string(spec, KEY, "access_token_format"),
        signing_alg=bodies.string(spec, KEY, "signing_alg"),
        introspection=bodies.boolean(spec, KEY, "introspection"),
        # RFC 9126 section 6's client metadata name.
        require_par=bodies.boolean(spec, KEY, "require_pushed_authorization_requests"),
        jwks=_jwks(spec),
        # RFC 9449 section 5.2's client metadata name for "tokens only with DPoP".
        require_dpop=bodies.boolean(spec, KEY, "dpop_bound_access_tokens"),
    )


def _jwks(spec: dict[str, Any]) -> str | None:
    """A JWK set object (its rules: management/client_rules.py); null removes it."""
    if "jwks" not in spec:
        return None
    value = spec["jwks"]
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise bodies.BadRequest(f'{KEY}.jwks must be a JWK set object {{"keys": [...]}} or null')
    return json.dumps(value)


def _spec(changes: client_rules.ClientChanges, host: AccountHost, caller: Caller) -> client_rules.ClientSpec:
    """A new client from the fields sent; the owner is the calling admin."""
    return client_rules.ClientSpec(
        name=changes.name or "",
        identifier=changes.identifier or "",
        account=host.account,
        redirect_uris=changes.redirect_uris or (),
        kind=changes.kind or "confidential",
        grant_types=changes.grant_types or (),
        allowed_scopes=changes.allowed_scopes or (),
        access_token_lifetime=changes.access_token_lifetime,
        refresh_token_lifetime=changes.refresh_token_lifetime,
        access_token_format=changes.access_token_format or "opaque",
        signing_alg=changes.signing_alg or "ES256",
        introspection=bool(changes.introspection),
        require_par=bool(changes.require_par),
        description=changes.description or "",
        company=changes.company or "",
        logo_url=changes.logo_url or "",
        owner_id=caller.user.id,
        jwks=changes.jwks or None,
        require_dpop=bool(changes.require_dpop),
    )


async def list_clients(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    size, after = paging.request(request.query_params)
    found = await client_rules.list_for_account(services.stores, host.account, after_id=after, limit=size + 1)
    url = f"{host.issuer}/api/v2/oauth/clients.json"
    return responses.json(paging.listing("clients", found, size, url, lambda c: client_json(c, host.issuer)))


async def create_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    changes = _changes(await bodies.member(request, KEY, EXAMPLE))
    client, secret = await client_rules.create(
        services.stores, _spec(changes, host, caller), services.now(), actor(request, caller)
    )
    headers = {**NO_STORE, "Location": f"{host.issuer}/api/v2/oauth/clients/{client.id}.json"}
    return responses.json({"client": client_json(client, host.issuer, secret)}, 201, headers)


async def show_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client = await client_rules.get(services.stores, host.account, path_id(request, "client_id", "client"))
    return responses.json({"client": client_json(client, host.issuer)})


async def update_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client_id = path_id(request, "client_id", "client")
    changes = _changes(await bodies.member(request, KEY, EXAMPLE))
    client = await client_rules.update(
        services.stores, host.account, client_id, changes, actor(request, caller), services.now()
    )
    return responses.json({"client": client_json(client, host.issuer)})


async def delete_client(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client_id = path_id(request, "client_id", "client")
    await client_rules.delete(services.stores, host.account, client_id, actor(request, caller), services.now())
    return Response(status_code=204)


def _overlap(document: Any) -> int:
    if not isinstance(document, dict) or set(document) - {"previous_secret_expires_in"}:
        raise bodies.BadRequest('the body must be empty or {"previous_secret_expires_in": SECONDS}')
    value = bodies.seconds(document, "body", "previous_secret_expires_in")
    return 0 if value is None else int(value)


async def generate_secret(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    client_id = path_id(request, "client_id", "client")
    example = '{"previous_secret_expires_in": 3600}'
    overlap = _overlap(await bodies.read_json(request, example, empty_ok=True))
    client, secret = await client_secrets.regenerate_secret(
        services.stores, host.account, client_id, actor(request, caller), services.now(), overlap
    )
    return responses.json({"client": client_json(client, host.issuer, secret)}, 200, NO_STORE)
