"""The Tokens API, as Zendesk shapes it: /api/v2/oauth/tokens(.json), /{id}, /current.

Reading needs `read` (users:read), creating and revoking `write` (users:write). Users see
and revoke their own tokens; admins any token of the account (`all=true`, `client_id`
filter) and may create a token for a client, acting as themselves. `token` in every
answer is the first 10 characters; `full_token` appears once, in the 201 of a creation.
Listings page with Zendesk's cursor pagination (`page[size]`, `page[after]`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tessera.management import tokens as token_rules
from tessera.management.errors import ManagementError
from tessera.management.shapes import token_json
from tessera.model import AccessToken
from tessera.protocol.numbers import whole_number
from tessera.web import params, responses
from tessera.web.api import paging
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


class BadRequest(Exception):
    pass


def _visible(caller: Caller, token: AccessToken) -> bool:
    return caller.user.is_admin or token.user_id == caller.user.id


async def list_tokens(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    query = request.query_params
    everyone = query.get("all") == "true"
    if everyone and not caller.user.is_admin:
        return responses.problem(403, "forbidden", "only admins may list all tokens of the account (all=true)")
    client_id = query.get("client_id")
    if client_id is not None and whole_number(client_id) is None:
        return responses.problem(400, "invalid_request", "client_id must be a client's numeric id")
    try:
        size, after = paging.request(query)
    except paging.BadPage as problem:
        return responses.problem(400, "invalid_request", str(problem))
    found = await services.stores.tokens.list_live(
        host.account.id,
        services.now(),
        user_id=None if everyone else caller.user.id,
        client_id=whole_number(client_id),
        after_id=after,
        limit=size + 1,
    )
    page, has_more = found[:size], len(found) > size
    keep = {k: v for k, v in (("all", "true" if everyone else None), ("client_id", client_id)) if v}
    return responses.json(
        {
            "tokens": [token_json(t, host.issuer) for t in page],
            **paging.members([t.id for t in page], size, has_more, f"{host.issuer}/api/v2/oauth/tokens.json", keep),
        }
    )


async def _token_by_path(
    services: Services, request: Request, host: AccountHost, caller: Caller
) -> AccessToken | Response:
    raw = request.path_params["token_id"]
    if raw == "current":
        if caller.token is None:
            return responses.problem(
                400, "invalid_request", "tokens/current names the token of the request; call it with a bearer token"
            )
        return caller.token
    token_id = whole_number(raw)
    if token_id is None:
        return responses.problem(404, "not_found", f"no token with id {raw[:20]!r}")
    token = await services.stores.tokens.get_access(host.account.id, token_id)
    if token is None or not _visible(caller, token) or token.revoked_at is not None or token.is_expired(services.now()):
        return responses.problem(404, "not_found", f"no token with id {raw} that you may see")
    return token


async def show_token(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    token = await _token_by_path(services, request, host, caller)
    if isinstance(token, Response):
        return token
    return responses.json({"token": token_json(token, host.issuer)})


async def revoke_token(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    token = await _token_by_path(services, request, host, caller)
    if isinstance(token, Response):
        return token
    # The whole family: a revoked access token beside a live refresh token would come back.
    await services.stores.tokens.revoke_family(token.family, services.now())
    return Response(status_code=204)


def _creation_request(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest('the body must be JSON: {"token": {"client_id": ID, "scopes": ["read"]}}') from None
    if not isinstance(document, dict) or not isinstance(document.get("token"), dict):
        raise BadRequest('the body must be {"token": {"client_id": ID, "scopes": ["read"]}}')
    spec: dict[str, Any] = document["token"]
    if not isinstance(spec.get("client_id"), int) or isinstance(spec.get("client_id"), bool):
        raise BadRequest("token.client_id must be the client's numeric id")
    scopes = spec.get("scopes")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise BadRequest('token.scopes must be a non-empty list of scopes, e.g. ["read"]')
    for name in ("expires_in", "refresh_token_expires_in"):
        if (
            name in spec
            and spec[name] is not None
            and (not isinstance(spec[name], int) or isinstance(spec[name], bool))
        ):
            raise BadRequest(f"token.{name} must be a whole number of seconds")
    return spec


async def create_token(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    if not caller.user.is_admin:
        return responses.problem(403, "forbidden", "only admins may create tokens")
    try:
        spec = _creation_request(await params.read_body(request))
    except BadRequest as problem:
        return responses.problem(400, "invalid_request", str(problem))
    client = await services.stores.clients.find_by_numeric_id(host.account.id, spec["client_id"])
    if client is None:
        return responses.problem(404, "not_found", f"no client with id {spec['client_id']} on this account")
    lifetimes = {k: str(spec[k]) for k in ("expires_in", "refresh_token_expires_in") if spec.get(k) is not None}
    try:
        created = await token_rules.create(
            services.stores,
            host.account,
            client,
            caller.user,
            " ".join(spec["scopes"]),
            services.now(),
            keys=services.keys,
            issuer=host.issuer,
            lifetime_params=lifetimes,
        )
    except ManagementError as problem:
        return responses.problem(400, "invalid_request", str(problem))
    body = token_json(created.token, host.issuer, created.full_token, created.refresh_token)
    return responses.json({"token": body}, 201, {"Cache-Control": "no-store"})
