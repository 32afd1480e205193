"""The audit log, as Zendesk shapes it (INTERFACE.md section 6): /api/v2/audit_logs(.json)
and /{id}(.json), newest first.

Admins only, with auditlogs:read (or read). Filters: filter[action], filter[actor_id],
filter[source_type], and filter[created_at][]=START&filter[created_at][]=END (ISO 8601,
both ends included). The cursor pages towards older entries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from tessera.management import audit_events as ev
from tessera.management import audit_log
from tessera.management.shapes import audit_log_json
from tessera.protocol.numbers import whole_number
from tessera.storage.audit import AuditFilter
from tessera.web import responses
from tessera.web.api import paging
from tessera.web.api.admin import path_id
from tessera.web.api.authentication import Caller
from tessera.web.api.bodies import BadRequest
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

FILTERS = ("filter[action]", "filter[actor_id]", "filter[source_type]")
CREATED_AT = "filter[created_at][]"


def _instant(raw: str, *, end: bool = False) -> float:
    """An ISO 8601 time. As an `end`, a time given to the second covers that whole second:
    entries are shown to the second (created_at) but kept to the microsecond, so an end
    copied from an entry, or a day ended at 23:59:59Z, must still include it."""
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if end and moment.microsecond == 0:
            return moment.timestamp() + 0.999999
        return moment.timestamp()
    except (ValueError, OverflowError):
        raise BadRequest(
            f"{CREATED_AT} must be an ISO 8601 time such as 2026-01-31T12:00:00Z, not {raw[:40]!r}"
        ) from None


def _choice(query: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    value = query.get(name)
    if value is not None and value not in allowed:
        raise BadRequest(f"{name} must be one of: {', '.join(allowed)}")
    return value


def _filter(query: QueryParams) -> AuditFilter:
    for name in FILTERS:
        if len(query.getlist(name)) > 1:
            raise BadRequest(f"give {name} once: entries are filtered by one value of each")
    actor_raw = query.get("filter[actor_id]")
    actor_id = None if actor_raw is None else whole_number(actor_raw)
    if actor_raw is not None and not actor_id:  # ids start at 1 (the OpenAPI document's minimum)
        raise BadRequest("filter[actor_id] must be a user's numeric id (1 or more)")
    window = query.getlist(CREATED_AT)
    if len(window) not in (0, 2):
        raise BadRequest(f"give {CREATED_AT} twice, the start then the end: {CREATED_AT}=START&{CREATED_AT}=END")
    start, end = (_instant(window[0]), _instant(window[1], end=True)) if window else (None, None)
    return AuditFilter(
        action=_choice(query, "filter[action]", ev.ACTIONS),
        actor_id=actor_id,
        source_type=_choice(query, "filter[source_type]", ev.SOURCE_TYPES),
        created_from=start,
        created_to=end,
    )


def _cursor_parameters(query: QueryParams) -> list[tuple[str, str]]:
    kept = [(name, query[name]) for name in FILTERS if name in query]
    return kept + [(CREATED_AT, value) for value in query.getlist(CREATED_AT)]


async def list_audit_logs(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    query = request.query_params
    where = _filter(query)
    size, before = paging.request(query)
    found = await audit_log.query(services.stores, host.account, where, before_id=before, limit=size + 1)
    url = f"{host.issuer}/api/v2/audit_logs.json"
    shown = lambda log: audit_log_json(log, host.issuer)  # noqa: E731
    return responses.json(paging.listing("audit_logs", found, size, url, shown, _cursor_parameters(query)))


async def show_audit_log(services: Services, request: Request, host: AccountHost, caller: Caller) -> Response:
    log = await audit_log.get(services.stores, host.account, path_id(request, "audit_log_id", "audit log entry"))
    return responses.json({"audit_log": audit_log_json(log, host.issuer)})
