"""The Users API, as Zendesk shapes it: GET /api/v2/users/me(.json), the caller; and for
admins (INTERFACE.md section 6) /api/v2/users(.json), /{id}(.json), PUT /{id}/password(.json).

Reading needs users:read (or read), changing users:write (or write). Suspending a user
ends their sessions and tokens at once; the last active admin cannot be demoted or
suspended (422).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.management import users as user_rules
from tessera.management.errors import Invalid
from tessera.management.shapes import user_json
from tessera.web import responses, sessions
from tessera.web.api import bodies, paging
from tessera.web.api.admin import actor, path_id
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

KEY = "user"
EXAMPLE = '{"user": {"name": "Roger Wilco", "email": "roger@example.com", "role": "agent"}}'
READ_ONLY = ("id", "url", "account_id", "active", "created_at", "updated_at", "authenticity_token")


async def me(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    body = user_json(caller.user, host.issuer)
    if caller.session is not None:
        body["authenticity_token"] = sessions.authenticity_token(services, caller.session)
    return responses.json({"user": body}, 200, {"Cache-Control": "no-store"})


async def list_users(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    size, after = paging.request(request.query_params)
    found = await user_rules.list_users(services.stores, host.account, after_id=after, limit=size + 1)
    url = f"{host.issuer}/api/v2/users.json"
    return responses.json(paging.listing("users", found, size, url, lambda u: user_json(u, host.issuer)))


async def create_user(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    spec = await bodies.member(request, KEY, EXAMPLE)
    bodies.refuse_unknown(spec, KEY, ("name", "email", "role", "password"), (*READ_ONLY, "suspended"))
    user = await user_rules.create(
        services.stores,
        host.account,
        bodies.string(spec, KEY, "email") or "",
        bodies.string(spec, KEY, "password"),
        bodies.string(spec, KEY, "role") or "end-user",
        bodies.string(spec, KEY, "name"),
        services.now(),
        actor(request, caller),
    )
    headers = {"Location": f"{host.issuer}/api/v2/users/{user.id}.json"}
    return responses.json({"user": user_json(user, host.issuer)}, 201, headers)


async def show_user(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    user = await user_rules.get(services.stores, host.account, path_id(request, "user_id", "user"))
    return responses.json({"user": user_json(user, host.issuer)})


def _changes(spec: dict[str, Any], current_email: str) -> user_rules.UserChanges:
    bodies.refuse_unknown(spec, KEY, ("name", "role", "suspended"), (*READ_ONLY, "email"))
    email = bodies.string(spec, KEY, "email")
    if email is not None and email.strip().lower() != current_email:
        raise Invalid.one("email", "email cannot be changed here; create a user with the new address")
    return user_rules.UserChanges(
        name=bodies.string(spec, KEY, "name"),
        role=bodies.string(spec, KEY, "role"),
        suspended=bodies.boolean(spec, KEY, "suspended"),
    )


async def update_user(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    user = await user_rules.get(services.stores, host.account, path_id(request, "user_id", "user"))
    changes = _changes(await bodies.member(request, KEY, EXAMPLE), user.email)
    updated = await user_rules.update(
        services.stores, host.account, user.id, changes, actor(request, caller), services.now()
    )
    return responses.json({"user": user_json(updated, host.issuer)})


async def set_password(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    user_id = path_id(request, "user_id", "user")
    example = '{"password": "a long new password"}'
    document = await bodies.read_json(request, example)
    if not isinstance(document, dict) or set(document) != {"password"}:
        raise bodies.BadRequest(f"the body must be {example}")
    password = bodies.string(document, "body", "password") or ""
    await user_rules.set_password(
        services.stores, host.account, user_id, password, actor(request, caller), services.now()
    )
    return Response(status_code=204)
