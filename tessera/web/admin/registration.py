"""Console: dynamic client registration (INTERFACE.md section 8, RFC 7591 section 3).

One settings page: who may register clients at the account's registration endpoint (off,
holders of an initial access token, or anyone), the initial access tokens (make one, shown
exactly once like a client secret; list; revoke), and the clients that registered
themselves. Every change goes through the management layer, which writes the audit log.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.i18n import N_
from tessera.management import accounts, clients, registration_tokens
from tessera.management.errors import ManagementError
from tessera.model import REGISTRATION_POLICIES
from tessera.web import tenancy
from tessera.web.admin.common import Console, console_page, done, message, page, read_form, whole

PAGE = paths.ADMIN_REGISTRATION
# How long a new initial access token may wait for its one use.
LIFETIMES = ((3600, "1 hour"), (86_400, "1 day"), (7 * 86_400, "7 days"), (30 * 86_400, "30 days"))
POLICY_WORDS = {"off": "off", "token": "by initial access token only", "open": "open to anyone"}


@console_page
async def index(console: Console, request: Request) -> Response:
    stores, account = console.services.stores, console.account
    tokens = await registration_tokens.list_tokens(stores, account, limit=100)
    own = await clients.list_for_account(stores, account, limit=100)
    return await page(
        console,
        "admin/registration.html",
        section="registration",
        title="Registration",
        policy=account.registration_policy,
        policies=REGISTRATION_POLICIES,
        tokens=tokens,
        lifetimes=LIFETIMES,
        default_lifetime=registration_tokens.DEFAULT_EXPIRES_IN,
        self_registered=[c for c in own if c.is_self_registered],
        client_names={c.id: c.name for c in own},
        endpoint=(await tenancy.account_host(request, console.services)).issuer + paths.REGISTER,
    )


@console_page
async def set_policy(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    chosen = form.get("policy")
    if chosen not in REGISTRATION_POLICIES:
        return message(console, N_("Invalid request"), N_("Choose who may register clients from the list."), 400)
    await accounts.set_registration_policy(
        console.services.stores, console.account.subdomain, chosen, console.actor, console.now()
    )
    return await done(console, PAGE, f"Dynamic client registration is now {POLICY_WORDS[chosen]}.")


@console_page
async def create_token(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    seconds = whole(form.get("expires_in"))
    if seconds is None or seconds not in dict(LIFETIMES):
        return message(console, N_("Invalid request"), N_("Choose how long the token stays valid from the list."), 400)
    created = await registration_tokens.create(
        console.services.stores, console.account, console.actor, console.now(), seconds
    )
    text = f"An initial access token was created; it registers one app within {dict(LIFETIMES)[seconds]}."
    return await done(console, PAGE, text, secret=created.full_token)


@console_page
async def revoke_token(console: Console, request: Request) -> Response:
    await read_form(console, request)  # for its CSRF check
    token_id = whole(str(request.path_params.get("token_id", "")))
    try:
        if token_id is None:
            raise ManagementError("no such token")
        await registration_tokens.revoke(
            console.services.stores, console.account, token_id, console.actor, console.now()
        )
    except ManagementError:
        return await done(console, PAGE, "That token was already revoked.", tone="error")
    return await done(console, PAGE, "The initial access token was revoked.")
