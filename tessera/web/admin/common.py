"""What every console page shares: who may enter, looking a record up, rendering, and the
Post/Redirect/Get answer that leaves a notice for the next page (reading a posted form is
forms.py's).

A handler is written for the admin already inside (`console_page`): entering, reading the
form and looking the record up raise `Answered` with the page that ends the request early
(the login redirect, the 403 page, the expired-form page, the 404 page), so the handler
itself only reads: look up, read the form, call the management layer, render.

INTERFACE.md section 6: the console is for admins of the account only (signed out: the
login page, then back; signed in but not an admin: a 403 page); section 5: every page
carries the security headers of web/pages.py and every form a CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.management import access
from tessera.management.audit_events import Actor
from tessera.management.errors import Forbidden, NotFound
from tessera.model import Account, User
from tessera.protocol.numbers import whole_number
from tessera.reasons import N_
from tessera.web import locales, pages, sessions, tenancy
from tessera.web.admin import notices
from tessera.web.admin.notices import Notice
from tessera.web.services import Services

# The roles as the refusal page names them, in a sentence.
ROLE_WORDS = {"admin": N_("admin"), "agent": N_("agent"), "end-user": N_("end user")}
Found = TypeVar("Found")


class Answered(Exception):
    """The request is answered before the handler's own work: `response` is the answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True, slots=True)
class Console:
    """A request by a signed-in admin of the account."""

    services: Services
    account: Account
    admin: User
    current: sessions.CurrentSession
    actor: Actor
    request: Request  # the page's language comes from it (web/locales.py)

    @property
    def authenticity_token(self) -> str:
        return sessions.authenticity_token(self.services, self.current)

    def now(self) -> float:
        return self.services.now()

    def said(self, message: str, /, **values: object) -> str:
        """A message (marked with N_ where it is written) in the page's language, its
        placeholders then filled in with `values`: page titles and the notices of actions."""
        translated = locales.choose(self.request).gettext(message)
        return translated % values if values else translated


def _to_login(request: Request) -> Response:
    query = request.url.query
    back = request.url.path + ("?" + query if query and request.method == "GET" else "")
    return RedirectResponse("/access/login?" + urlencode({"return_to": back}), 302)


def _forbidden(services: Services, request: Request, account: Account, user: User, reason: str) -> Response:
    return pages.render(
        services.templates,
        request,
        "admin/forbidden.html",
        403,
        title=locales.choose(request).gettext(N_("Admins only")),
        roles=ROLE_WORDS,
        account_name=account.name,
        user=user,
        reason=reason,
        login_url=paths.LOGIN + "?" + urlencode({"return_to": paths.ADMIN}),
    )


async def enter(services: Services, request: Request) -> Console:
    """The console for this request; raises Answered for whoever may not have it."""
    host = await tenancy.account_host(request, services)
    current = await sessions.current(request, services, host.account)
    if current is None:
        raise Answered(_to_login(request))
    user = await services.stores.users.get(host.account.id, current.user_id)
    if user is None:
        raise Answered(_to_login(request))
    try:
        access.require_admin(user)
    except Forbidden as refused:
        raise Answered(_forbidden(services, request, host.account, user, str(refused))) from None
    address = request.client.host if request.client else None
    return Console(services, host.account, user, current, Actor(user.id, user.name, address), request)


ConsoleHandler = Callable[[Console, Request], Awaitable[Response]]
Bound = Callable[[Services, Request], Awaitable[Response]]


def console_page(handler: ConsoleHandler) -> Bound:
    """A route-table handler `(services, request)` that enters the console, runs `handler`
    for the admin inside, and answers with the page of any Answered raised on the way."""

    @wraps(handler)
    async def entered(services: Services, request: Request) -> Response:
        try:
            return await handler(await enter(services, request), request)
        except Answered as answered:
            return answered.response

    return entered


async def record(
    console: Console,
    request: Request,
    param: str,
    find: Callable[[int], Awaitable[Found]],
    missing: tuple[str, str],
) -> Found:
    """The record named by the path parameter `param`, found by `find`; when there is none,
    raises Answered with the 404 page titled and worded by `missing`."""
    record_id = whole(str(request.path_params.get(param, "")))
    try:
        if record_id is None:
            raise NotFound(missing[0])
        return await find(record_id)
    except NotFound:
        raise Answered(message(console, *missing, 404)) from None


def message(
    console: Console, title: str, text: str, status: int, *, values: dict[str, object] | None = None
) -> Response:
    """A page inside the console that only says something (not found, expired form).
    `title` and `text` are messages (marked with N_ where written), translated here and
    then filled in with `values`."""
    said = locales.choose(console.request).gettext
    title, text = said(title), said(text)
    if values:
        title, text = title % values, text % values
    return pages.render(
        console.services.templates,
        console.request,
        "admin/message.html",
        status,
        title=title,
        text=text,
        section="",
        **_frame(console, None),
    )


def _frame(console: Console, notice: Notice | None) -> dict[str, Any]:
    return {
        "account_name": console.account.name,
        "admin": console.admin,
        "authenticity_token": console.authenticity_token,
        "notice": notice,
        "when": when,
        "now": console.now(),
    }


def when(value: float | None, *, seconds: bool = False) -> Markup:
    """A time as the console shows it: UTC, to the minute (the audit log: to the second),
    in a <time> read left to right, so that an Arabic page does not turn it round
    ("UTC 02:23 2026-12-07")."""
    if value is None:
        return Markup("")
    shown = datetime.fromtimestamp(value, UTC)
    text = shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"
    return Markup('<time datetime="{}" dir="ltr">{}</time>').format(shown.isoformat(), text)


async def page(
    console: Console, template: str, *, section: str, title: str, status: int = 200, **context: Any
) -> Response:
    """A console page; shows (and so uses up) the notice the last action left."""
    notice = await notices.take(console.services, console.current)
    secret_shown = (
        notice is not None
        and notice.secret is not None
        and template in ("admin/client.html", "admin/registration.html")
    )
    return pages.render(
        console.services.templates,
        console.request,
        template,
        status,
        script=secret_shown,
        title=title,
        section=section,
        **_frame(console, notice),
        **context,
    )


async def done(
    console: Console,
    path: str,
    text: str,
    *,
    tone: str = "success",
    secret: str | None = None,
    client_id: int | None = None,
) -> Response:
    """Post/Redirect/Get: leave the notice for the next page and send the browser there."""
    await notices.leave(console.services, console.current, Notice(text, tone, secret, client_id))
    return RedirectResponse(path, 303, headers=pages.redirect_headers())


def whole(raw: str | None) -> int | None:
    """An id or count from a query or form field (ASCII digits: protocol/numbers.py), or None."""
    return whole_number(raw, max_digits=15)
