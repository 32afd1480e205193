"""The administration API's common edge (INTERFACE.md section 6): the caller must be an
admin of the account, and every management error becomes its documented answer.

    403 {"error": "Forbidden", "description": ...}          not an admin (access.require_admin)
    404 {"error": "RecordNotFound", "description": ...}     unknown id, or another account's
    400 {"error": "invalid_request", "description": ...}    the body or a parameter is not the documented shape
    422 {"error": "RecordInvalid", "description": "Record validation errors",
         "details": {FIELD: [{"description": TEXT}]}}        every field that fails a rule
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from tessera.management import access
from tessera.management.audit_events import Actor
from tessera.management.errors import Forbidden, Invalid, ManagementError, NotFound
from tessera.protocol.numbers import whole_number
from tessera.web import responses
from tessera.web.api import paging
from tessera.web.api.authentication import Caller
from tessera.web.api.bodies import BadRequest
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

Handler = Callable[[Services, Request, AccountHost, Caller], Awaitable[Response]]


def record_invalid(fields: dict[str, list[str]]) -> Response:
    details = {name: [{"description": message} for message in messages] for name, messages in fields.items()}
    return responses.json(
        {"error": "RecordInvalid", "description": "Record validation errors", "details": details}, 422
    )


def not_found(description: str) -> Response:
    return responses.problem(404, "RecordNotFound", description)


def forbidden(description: str) -> Response:
    return responses.problem(403, "Forbidden", description)


def path_id(request: Request, name: str, what: str) -> int:
    """The numeric id in the path; anything else names no record (NotFound)."""
    raw = str(request.path_params[name])
    number = whole_number(raw)
    if number is None:
        raise NotFound(f"no {what} with id {raw[:20]!r}: ids are numbers")
    return number


def actor(request: Request, caller: Caller) -> Actor:
    return access.actor_of(caller.user, request.client.host if request.client else None)


def admin_only(handler: Handler) -> Handler:
    """`handler` for admins of the account, its refusals rendered as documented."""

    async def run(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
        try:
            access.require_admin(caller.user)
            return await handler(services, request, host, caller)
        except Forbidden as problem:
            return forbidden(str(problem))
        except NotFound as problem:
            return not_found(str(problem))
        except Invalid as problem:
            return record_invalid(problem.fields)
        except ManagementError as problem:
            return record_invalid({"base": [str(problem)]})
        except (BadRequest, paging.BadPage) as problem:
            return responses.problem(400, "invalid_request", str(problem))

    return run
