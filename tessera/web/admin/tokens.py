"""Console: the account's live access tokens (INTERFACE.md section 6, "Tokens"), filtered by
client and by user, each revocable after a confirmation page (its whole family: RFC 7009
section 2.1, "the authorization server ... SHOULD also invalidate all access tokens based on
the same authorization grant"). Only the first characters of a token are ever shown.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import clients, global_clients, tokens, users
from tessera.management.errors import ManagementError, NotFound
from tessera.model import AccessToken
from tessera.reasons import N_
from tessera.web.admin.common import Console, console_page, done, page, record, whole
from tessera.web.admin.forms import read_form

LIST = paths.ADMIN_TOKENS
PAGE_SIZE = 50


@console_page
async def index(console: Console, request: Request) -> Response:
    stores, account = console.services.stores, console.account
    own = await clients.list_for_account(stores, account, limit=100)
    apps = await global_clients.authorized(stores, account, limit=100, now=console.now())
    people = await users.list_users(stores, account, limit=100)
    client_id = whole(request.query_params.get("client_id"))
    user_id = whole(request.query_params.get("user_id"))
    after = whole(request.query_params.get("after")) or 0
    is_app = client_id is not None and any(app.id == client_id for app in apps)
    query = tokens.TokenQuery(
        everyone=True,
        client_id=None if is_app else client_id,
        global_client_id=client_id if is_app else None,
        user_id=user_id,
    )
    found = await tokens.list_visible(
        stores, account, console.admin, query, console.now(), after_id=after, limit=PAGE_SIZE + 1
    )
    filters = {k: v for k, v in {"client_id": client_id, "user_id": user_id}.items() if v is not None}
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    next_url = f"{LIST}?{urlencode({**filters, 'after': found[-1].id})}" if more else None
    return await page(
        console,
        "admin/tokens.html",
        section="tokens",
        title=console.said(N_("Tokens")),
        tokens=found,
        client_names={c.id: c.name for c in (*own, *apps)},
        own_clients=own,
        apps=apps,
        people=people,
        user_names={u.id: u.name for u in people},
        filters=filters,
        filtered=bool(filters),
        first_page=f"{LIST}?{urlencode(filters)}" if after else None,
        next_url=next_url,
    )


def _filters(read: Callable[[str], str | None]) -> dict[str, int]:
    """The list's two filters, as numbers, read from a query or a form: the list a
    revocation comes from and goes back to."""
    kept = {name: whole(read(name)) for name in ("client_id", "user_id")}
    return {name: value for name, value in kept.items() if value is not None}


def _listing(filters: dict[str, int]) -> str:
    return f"{LIST}?{urlencode(filters)}" if filters else LIST


async def _token(console: Console, request: Request) -> AccessToken:
    async def find(token_id: int) -> AccessToken:
        return await tokens.visible(console.services.stores, console.account, console.admin, token_id, console.now())

    missing = (
        N_("Token not found"),
        N_("This account has no such live token. It may have been revoked or have expired."),
    )
    return await record(console, request, "token_id", find, missing)


async def _client_name(console: Console, client_id: int) -> str | None:
    """The name of a token's client: one of the account's own, or an external app."""
    stores, account = console.services.stores, console.account
    try:
        return (await clients.get(stores, account, client_id)).name
    except NotFound:
        pass
    try:
        return (await global_clients.get(stores, account, client_id, console.now())).name
    except NotFound:
        return None


async def _user_name(console: Console, user_id: int) -> str | None:
    try:
        return (await users.get(console.services.stores, console.account, user_id)).name
    except NotFound:
        return None


@console_page
async def confirm_revoke(console: Console, request: Request) -> Response:
    token = await _token(console, request)
    filters = _filters(request.query_params.get)
    return await page(
        console,
        "admin/token_revoke.html",
        section="tokens",
        title=console.said(N_("Revoke token %(prefix)s"), prefix=token.token_prefix),
        token=token,
        client_name=await _client_name(console, token.client_id),
        user_name=await _user_name(console, token.user_id),
        filters=filters,
        back=_listing(filters),
    )


@console_page
async def revoke(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    token_id = whole(str(request.path_params.get("token_id", "")))
    back = _listing(_filters(form.get))  # back to the same filtered list
    try:
        if token_id is None:
            raise ManagementError("no such token")
        await tokens.revoke(
            console.services.stores, console.account, console.admin, token_id, console.actor, console.now()
        )
    except ManagementError:
        return await done(
            console, back, console.said(N_("That token was already revoked or has expired.")), tone="error"
        )
    return await done(console, back, console.said(N_("The token was revoked, with every token of its authorization.")))
