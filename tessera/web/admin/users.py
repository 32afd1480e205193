"""Console: the account's users (INTERFACE.md section 6, "Users"): list, create, change the
name and role, set a new password, suspend (after a confirmation page) and unsuspend, lift
the sign-in throttle of a user's email. A suspended user cannot sign in, and their sessions
and tokens stop working at once; the last active admin can be neither demoted nor suspended
(the management layer refuses, and the page says so).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.management import clients, users
from tessera.management.errors import Invalid, ManagementError
from tessera.management.paging import every
from tessera.model import ROLES, Client, User
from tessera.reasons import N_
from tessera.web import pages
from tessera.web.admin.common import ROLE_WORDS, Console, console_page, done, page, record
from tessera.web.admin.forms import read_form

LIST = paths.ADMIN_USERS
# The roles as the pages name them: the words of a sentence (common.ROLE_WORDS), which the
# templates capitalize as a label ("Admin", "End user"); "Admin" alone is the console's name.
ROLE_LABELS = ROLE_WORDS
assert set(ROLE_LABELS) == set(ROLES)


def _errors(error: ManagementError) -> dict[str, list[str]]:
    return dict(error.fields) if isinstance(error, Invalid) else {"": [str(error)]}


@console_page
async def index(console: Console, request: Request) -> Response:
    found = await users.list_users(console.services.stores, console.account, limit=100)
    return await page(
        console, "admin/users.html", section="users", title=console.said(N_("Users")), users=found, roles=ROLE_LABELS
    )


async def _new_page(console: Console, values: dict[str, str], errors: dict[str, list[str]], status: int) -> Response:
    return await page(
        console,
        "admin/user_new.html",
        section="users",
        title=console.said(N_("New user")),
        status=status,
        values=values,
        errors=errors,
        roles=ROLE_LABELS,
    )


@console_page
async def new(console: Console, request: Request) -> Response:
    return await _new_page(console, {"name": "", "email": "", "role": "end-user"}, {}, 200)


@console_page
async def create(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    values = {"name": form.get("name").strip(), "email": form.get("email").strip(), "role": form.get("role")}
    try:
        user = await users.create(
            console.services.stores,
            console.account,
            values["email"],
            form.get("password") or None,
            values["role"],
            values["name"] or None,
            console.now(),
            actor=console.actor,
        )
    except ManagementError as error:
        return await _new_page(console, values, _errors(error), 422)
    text = console.said(N_("%(user)s was added as %(role)s."), user=user.name, role=console.said(ROLE_WORDS[user.role]))
    return await done(console, f"{LIST}/{user.id}", text)


async def _user(console: Console, request: Request) -> User:
    find = partial(users.get, console.services.stores, console.account)
    return await record(console, request, "user_id", find, (N_("User not found"), N_("This account has no such user.")))


async def _user_page(console: Console, user: User, errors: dict[str, list[str]], status: int = 200) -> Response:
    throttled = await users.sign_in_throttled_for(console.services.stores, console.account, user, console.now())
    context: dict[str, Any] = {"user": user, "errors": errors, "roles": ROLE_LABELS, "throttled_for": throttled}
    return await page(console, "admin/user.html", section="users", title=user.name, status=status, **context)


@console_page
async def edit(console: Console, request: Request) -> Response:
    user = await _user(console, request)
    return await _user_page(console, user, {})


@console_page
async def confirm_suspend(console: Console, request: Request) -> Response:
    """The page that asks before a suspension, whose button posts `suspended=true` to the
    user's form. Unsuspending takes nothing away, so it is one click on the user's page."""
    user = await _user(console, request)
    if user.is_suspended:
        # A link from a page gone stale: the user's page shows the suspension, and how to lift it.
        return RedirectResponse(f"{LIST}/{user.id}", 303, headers=pages.redirect_headers())
    return await page(
        console,
        "admin/user_suspend.html",
        section="users",
        title=console.said(N_("Suspend %(user)s"), user=user.name),
        user=user,
        clients=await _acting_as(console, user),
        last_admin=await users.is_last_active_admin(console.services.stores, console.account, user),
    )


async def _acting_as(console: Console, user: User) -> list[Client]:
    """The account's clients whose client_credentials tokens act as `user`, their owner: a
    suspension stops those too (protocol/suspension.py), which the page must say."""
    stores, account = console.services.stores, console.account
    every_client = await every(lambda after_id: clients.list_for_account(stores, account, after_id=after_id))
    return [c for c in every_client if c.user_id == user.id and "client_credentials" in c.grant_types]


@console_page
async def update(console: Console, request: Request) -> Response:
    """One form changes name and role; Unsuspend and the suspension's confirmation page
    (confirm_suspend) send `suspended`."""
    user = await _user(console, request)
    form = await read_form(console, request)
    if form.get("lift_throttle") == "1":
        lifted = await users.lift_sign_in_throttle(
            console.services.stores, console.account, user.id, console.actor, console.now()
        )
        text = console.said(N_("%(user)s may sign in again at once."), user=lifted.name)
        return await done(console, f"{LIST}/{lifted.id}", text)
    if form.get("set_password") == "1":
        return await _set_password(console, user, form.get("password"))
    suspended = {"true": True, "false": False}.get(form.get("suspended"))
    if suspended is None:
        changes = users.UserChanges(name=form.get("name").strip(), role=form.get("role"))
    else:
        changes = users.UserChanges(suspended=suspended)
    try:
        changed = await users.update(
            console.services.stores, console.account, user.id, changes, console.actor, console.now()
        )
    except ManagementError as error:
        return await _user_page(console, user, _errors(error), 422)
    if suspended is None:
        said = N_("%(user)s was saved.")
    elif suspended:
        said = N_("%(user)s was suspended: their sessions and tokens were ended.")
    else:
        said = N_("%(user)s was unsuspended.")
    text = console.said(said, user=changed.name)
    return await done(console, f"{LIST}/{changed.id}", text)


async def _set_password(console: Console, user: User, password: str) -> Response:
    """A new password set by an admin: for a user who cannot reset it by e-mail (an account
    that sends none). Checked as every password is; audited; lifts the sign-in throttle."""
    try:
        await users.set_password(
            console.services.stores, console.account, user.id, password, console.actor, console.now()
        )
    except ManagementError as error:
        return await _user_page(console, user, _errors(error), 422)
    text = console.said(N_("A new password was set for %(user)s."), user=user.name)
    return await done(console, f"{LIST}/{user.id}", text)
