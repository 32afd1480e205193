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
from tessera.management.audit_events import ACTIONS, SOURCE_TYPES
from tessera.reasons import N_
from tessera.storage.audit import AuditFilter
from tessera.web.admin.common import Console, console_page, page, whole

LIST = paths.ADMIN_AUDIT
PAGE_SIZE = 50
DAY = 86400
# What people read for the log's actions and sources; the entries store the identifiers.
ACTION_LABELS = {
    "create": N_("Create"),
    "update": N_("Update"),
    "destroy": N_("Delete"),
    "regenerate_secret": N_("Regenerate secret"),
    "sign_in": N_("Sign-in"),
    "sign_in_failed": N_("Failed sign-in"),
    "sign_out": N_("Sign-out"),
    "authorize": N_("Authorize"),
    "revoke": N_("Revoke"),
    "code_replay": N_("Code replay"),
    "refresh_reuse": N_("Refresh token reuse"),
    "suspend": N_("Suspend"),
    "unsuspend": N_("Unsuspend"),
    "set_password": N_("Set password"),
    "rotate_key": N_("Rotate key"),
    "register": N_("Register"),
    "lift_throttle": N_("Lift sign-in throttle"),
    "request_password_reset": N_("Password reset requested"),
    "reset_password": N_("Password reset"),
}
SOURCE_LABELS = {
    "oauth_client": N_("OAuth client"),
    "oauth_global_client": N_("External app"),
    "oauth_token": N_("Token"),
    "oauth_consent": N_("Consent"),
    "user": N_("User"),
    "signing_key": N_("Signing key"),
    "oauth_resource": N_("Resource"),
    "account": N_("Account"),
    "registration_token": N_("Initial access token"),
}
assert set(ACTION_LABELS) == set(ACTIONS) and set(SOURCE_LABELS) == set(SOURCE_TYPES)


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
        title=console.said(N_("Audit log")),
        logs=found,
        actions=ACTIONS,
        action_labels=ACTION_LABELS,
        source_labels=SOURCE_LABELS,
        people=people,
        filters=filters,
        bad_dates=bad_dates,
        newest_url=f"{LIST}?{urlencode(filters)}" if before else None,
        older_url=f"{LIST}?{urlencode({**filters, 'before': found[-1].id})}" if more else None,
    )
