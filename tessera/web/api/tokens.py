"""The Tokens API, as Zendesk shapes it: /api/v2/oauth/tokens(.json), /{id}, /current.

Reading needs `read` (users:read), creating and revoking `write` (users:write). Who sees
and revokes what is management/tokens.py's: users their own tokens; admins any token of
the account (filters `all=true`, `client_id`, `global_client_id`, `user_id`); admins may
create a token for a client, acting as themselves. `token` in every
answer is the first 10 characters; `full_token` appears once, in the 201 of a creation.
Listings page with Zendesk's cursor pagination (`page[size]`, `page[after]`).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from tessera import metrics
from tessera.management import tokens as token_rules
from tessera.management.errors import Forbidden, ManagementError, NotFound
from tessera.management.shapes import token_json
from tessera.model import AccessToken
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import echo
from tessera.protocol.numbers import whole_number
from tessera.web import params, responses
from tessera.web.api import paging
from tessera.web.api.admin import actor, forbidden, not_found
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


class BadRequest(Exception):
    pass


def _number(query: QueryParams, name: str, what: str) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    number = whole_number(raw)
    if not number:  # ids start at 1 (the OpenAPI document's minimum)
        raise BadRequest(f"{name} must be {what}'s numeric id (1 or more)")
    return number


def _everyone(query: QueryParams) -> bool:
    raw = query.get("all")
    if raw not in (None, "true", "false"):  # `all=yes` gave the caller's own tokens, silently
        raise BadRequest(f"all must be true or false, not {echo(raw, 20)}")
    return raw == "true"


def _query(query: QueryParams) -> token_rules.TokenQuery:
    return token_rules.TokenQuery(
        everyone=_everyone(query),
        client_id=_number(query, "client_id", "a client"),
        global_client_id=_number(query, "global_client_id", "a global client"),
        user_id=_number(query, "user_id", "a user"),
    )


def _refusal(problem: ManagementError) -> Response:
    if isinstance(problem, Forbidden):
        return forbidden(str(problem))
    if isinstance(problem, NotFound):
        return not_found(str(problem))
    return responses.problem(400, "invalid_request", str(problem))


async def list_tokens(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    query = request.query_params
    try:
        wanted = _query(query)
        size, after = paging.request(query)
        found = await token_rules.list_visible(
            services.stores, host.account, caller.user, wanted, services.now(), after_id=after, limit=size + 1
        )
    except (BadRequest, paging.BadPage) as problem:
        return responses.problem(400, "invalid_request", str(problem))
    except ManagementError as problem:
        return _refusal(problem)
    keep = {"all": "true"} if wanted.everyone else {}
    keep |= {k: query[k] for k in ("client_id", "global_client_id", "user_id") if k in query}
    url = f"{host.issuer}/api/v2/oauth/tokens.json"
    return responses.json(paging.listing("tokens", found, size, url, lambda t: token_json(t, host.issuer), keep))


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
        return not_found(f"no token with id {raw[:20]!r}")
    try:
        return await token_rules.visible(services.stores, host.account, caller.user, token_id, services.now())
    except ManagementError as problem:
        return _refusal(problem)


async def show_token(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    token = await _token_by_path(services, request, host, caller)
    if isinstance(token, Response):
        return token
    return responses.json({"token": token_json(token, host.issuer)})


async def revoke_token(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    token = await _token_by_path(services, request, host, caller)
    if isinstance(token, Response):
        return token
    try:
        await token_rules.revoke(
            services.stores, host.account, caller.user, token.id, actor(request, caller), services.now()
        )
    except ManagementError as problem:
        return _refusal(problem)
    return Response(status_code=204)


def _creation_request(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        example = '{"token": {"client_id": ID, "scopes": ["read"]}}'
        raise BadRequest(f"{params.json_problem(error)}; send e.g. {example}") from None
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
        return forbidden("only admins may create tokens")
    try:
        spec = _creation_request(await params.read_body(request))
    except BadRequest as problem:
        return responses.problem(400, "invalid_request", str(problem))
    if caller.token is not None:
        # A created token acts as the caller: through a token, no more than that token may
        # do (else a narrow token, an app's, would mint itself a wider one).
        wider = scope_rules.beyond(caller.token.scopes, tuple(spec["scopes"]))
        if wider:
            return forbidden(
                f"this token may not create a token with scope {' '.join(wider)}: a created token acts as you, "
                f"so it may carry only scopes of the token you call with ({' '.join(caller.token.scopes)})",
            )
    client = await services.stores.clients.find_by_numeric_id(host.account.id, spec["client_id"])
    if client is None:
        return not_found(f"no client with id {spec['client_id']} on this account")
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
    metrics.token_issued("api")  # POST /api/v2/oauth/tokens: no grant, an admin's creation
    body = token_json(created.token, host.issuer, created.full_token, created.refresh_token)
    return responses.json({"token": body}, 201, {"Cache-Control": "no-store"})
