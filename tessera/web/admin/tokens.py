"""Console: the account's live access tokens (INTERFACE.md section 6, "Tokens"), filtered by
client and by user, each revocable (its whole family: RFC 7009 section 2.1, "the
authorization server ... SHOULD also invalidate all access tokens based on the same
authorization grant"). Only the first characters of a token are ever shown.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import clients, global_clients, tokens, users
from tessera.management.errors import ManagementError
from tessera.reasons import N_
from tessera.web.admin.common import Console, console_page, done, page, whole
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


@console_page
async def revoke(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    token_id = whole(str(request.path_params.get("token_id", "")))
    # Back to the same filtered list; only the two known filters are carried, as numbers.
    kept = {name: whole(form.get(name)) for name in ("client_id", "user_id")}
    query = urlencode({name: value for name, value in kept.items() if value is not None})
    back = f"{LIST}?{query}" if query else LIST
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
