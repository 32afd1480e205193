"""Console: the audit log (INTERFACE.md section 6, "Audit log"), newest first, filtered by
action, actor and date range, paged with an "older" cursor. Dates are whole days in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import audit_log, users
from tessera.management.audit_events import ACTIONS
from tessera.storage.audit import AuditFilter
from tessera.web.admin.common import Console, console_page, page, whole

LIST = paths.ADMIN_AUDIT
PAGE_SIZE = 50
DAY = 86400


def _day(raw: str | None) -> float | None:
    """Midnight UTC of a YYYY-MM-DD date (what <input type=date> sends), or None."""
    if not raw:
        return None
    try:
        return datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC).timestamp()
    except ValueError:
        return None


@console_page
async def index(console: Console, request: Request) -> Response:
    services = console.services
    q = request.query_params
    action = q.get("action") if q.get("action") in ACTIONS else None
    actor_id = whole(q.get("actor_id"))
    start, end = _day(q.get("from")), _day(q.get("to"))
    before = whole(q.get("before")) or 0
    where = AuditFilter(
        action=action,
        actor_id=actor_id,
        created_from=start,
        created_to=None if end is None else end + DAY - 0.001,
    )
    found = await audit_log.query(services.stores, console.account, where, before_id=before, limit=PAGE_SIZE + 1)
    filters = {
        k: v
        for k, v in {
            "action": action,
            "actor_id": actor_id,
            "from": q.get("from") if start is not None else None,
            "to": q.get("to") if end is not None else None,
        }.items()
        if v is not None
    }
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    people = await users.list_users(services.stores, console.account, limit=100)
    bad_dates = [name for name, day in (("from", start), ("to", end)) if q.get(name) and day is None]
    return await page(
        console,
        "admin/audit.html",
        section="audit",
        title="Audit log",
        logs=found,
        actions=ACTIONS,
        people=people,
        filters=filters,
        bad_dates=bad_dates,
        newest_url=f"{LIST}?{urlencode(filters)}" if before else None,
        older_url=f"{LIST}?{urlencode({**filters, 'before': found[-1].id})}" if more else None,
    )
