"""The Tickets API, /api/v2/tickets(.json) and /{id}(.json): the small protected resource of
INTERFACE.md section 4, shaped like Zendesk's, to show scopes at work.

Reading needs `tickets:read` (or `read`, or `tickets`), changing `tickets:write` (or
`write`, or `tickets`). End users see and open their own tickets; agents and admins see
every ticket of the account and are the ones who update and delete them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management.shapes import ticket_json
from tessera.protocol.numbers import whole_number
from tessera.tickets import TICKET_PRIORITIES, TICKET_STATUSES, Ticket
from tessera.web import params, responses
from tessera.web.api import paging
from tessera.web.api.admin import forbidden, not_found
from tessera.web.api.authentication import Caller
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

MAX_SUBJECT = 255
MAX_DESCRIPTION = 65_536
EXAMPLE = '{"ticket": {"subject": "My printer is on fire", "comment": {"body": "The smoke is very colorful."}}}'


class Invalid(Exception):
    """A request body that says what to fix."""


def _sees_all(caller: Caller) -> bool:
    return caller.user.role in ("admin", "agent")


async def _spec(request: Request) -> dict[str, Any]:
    try:
        document = orjson.loads(await params.read_body(request))
    except orjson.JSONDecodeError as error:
        raise Invalid(f"{params.json_problem(error)}; send e.g. {EXAMPLE}") from None
    if not isinstance(document, dict) or not isinstance(document.get("ticket"), dict):
        raise Invalid(f"the body must be an object with a ticket member, e.g. {EXAMPLE}")
    spec: dict[str, Any] = document["ticket"]
    return spec


def _no_nul(name: str, value: str) -> None:
    # JSON may carry "\u0000"; PostgreSQL text cannot hold it, and no subject needs it.
    if "\x00" in value:
        raise Invalid(f"{name} must not contain a NUL character (\\u0000)")


def _subject(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("ticket.subject must be a non-empty string")
    _no_nul("ticket.subject", value)
    if len(value) > MAX_SUBJECT:
        raise Invalid(f"ticket.subject must be at most {MAX_SUBJECT} characters")
    return value.strip()


def _choice(name: str, value: object, allowed: tuple[str, ...], *, nullable: bool) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str) or value not in allowed:
        or_null = " or null" if nullable else ""
        raise Invalid(f"ticket.{name} must be one of {', '.join(allowed)}{or_null}")
    return value


def _description(spec: dict[str, Any]) -> str:
    comment = spec.get("comment")
    body = comment.get("body") if isinstance(comment, dict) else spec.get("description")
    if not isinstance(body, str) or not body.strip():
        raise Invalid("a new ticket needs its first comment: ticket.comment.body (or ticket.description), a string")
    name = "ticket.comment.body" if isinstance(comment, dict) else "ticket.description"
    if len(body) > MAX_DESCRIPTION:
        raise Invalid(f"{name} must be at most {MAX_DESCRIPTION} characters")
    _no_nul(name, body)
    return body


async def list_tickets(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    try:
        size, after = paging.request(request.query_params)
    except paging.BadPage as problem:
        return responses.problem(400, "invalid_request", str(problem))
    requester = None if _sees_all(caller) else caller.user.id
    found = await services.stores.tickets.page(host.account.id, requester, after, size + 1)
    url = f"{host.issuer}{paths.API_TICKETS}.json"
    return responses.json(paging.listing("tickets", found, size, url, lambda t: ticket_json(t, host.issuer)))


async def create_ticket(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    try:
        spec = await _spec(request)
        subject, description = _subject(spec.get("subject")), _description(spec)
        priority = _choice("priority", spec.get("priority"), TICKET_PRIORITIES, nullable=True)
    except Invalid as problem:
        return responses.problem(400, "invalid_request", str(problem))
    ticket = await services.stores.tickets.create(
        host.account.id, caller.user.id, subject, description, priority, services.now()
    )
    headers = {"Location": f"{host.issuer}{paths.API_TICKETS}/{ticket.id}.json"}
    return responses.json({"ticket": ticket_json(ticket, host.issuer)}, 201, headers)


async def _ticket_by_path(services: Services, request: Request, host: AccountHost, caller: Caller) -> Ticket | Response:
    raw = request.path_params["ticket_id"]
    ticket_id = whole_number(raw)
    ticket = None if ticket_id is None else await services.stores.tickets.get(host.account.id, ticket_id)
    if ticket is None or not (_sees_all(caller) or ticket.requester_id == caller.user.id):
        return not_found(f"no ticket with id {raw[:20]!r} that you may see")
    return ticket


async def show_ticket(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    ticket = await _ticket_by_path(services, request, host, caller)
    if isinstance(ticket, Response):
        return ticket
    return responses.json({"ticket": ticket_json(ticket, host.issuer)})


async def _ticket_to_change(
    services: Services, request: Request, host: AccountHost, caller: Caller, verb: str
) -> Ticket | Response:
    """The ticket of the path, if the caller may see it (404) and change it (403)."""
    ticket = await _ticket_by_path(services, request, host, caller)
    if not isinstance(ticket, Response) and not _sees_all(caller):
        return forbidden(f"only agents and admins may {verb} tickets")
    return ticket


async def update_ticket(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    ticket = await _ticket_to_change(services, request, host, caller, "update")
    if isinstance(ticket, Response):
        return ticket
    try:
        spec = await _spec(request)
        changes: dict[str, str | None] = {}
        if "subject" in spec:
            changes["subject"] = _subject(spec["subject"])
        if "status" in spec:
            changes["status"] = _choice("status", spec["status"], TICKET_STATUSES, nullable=False)
        if "priority" in spec:
            changes["priority"] = _choice("priority", spec["priority"], TICKET_PRIORITIES, nullable=True)
        if not changes:
            raise Invalid("nothing to change: send ticket.subject, ticket.status or ticket.priority")
    except Invalid as problem:
        return responses.problem(400, "invalid_request", str(problem))
    updated = await services.stores.tickets.update(host.account.id, ticket.id, changes, services.now())
    if updated is None:  # deleted in the meantime
        return not_found(f"no ticket with id {ticket.id} that you may see")
    return responses.json({"ticket": ticket_json(updated, host.issuer)})


async def delete_ticket(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    ticket = await _ticket_to_change(services, request, host, caller, "delete")
    if isinstance(ticket, Response):
        return ticket
    await services.stores.tickets.delete(host.account.id, ticket.id)
    return Response(status_code=204)
