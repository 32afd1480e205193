"""Console: dynamic client registration (INTERFACE.md section 8, RFC 7591 section 3).

One settings page: who may register clients at the account's registration endpoint (off,
holders of an initial access token, or anyone), the initial access tokens (make one, shown
exactly once like a client secret; list; revoke after a confirmation page), and the clients
that registered themselves. Every change goes through the management layer, which writes
the audit log.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import accounts, clients, registration_tokens
from tessera.management.errors import ManagementError, NotFound
from tessera.model import REGISTRATION_POLICIES, Client
from tessera.reasons import N_
from tessera.storage.registrations import InitialToken
from tessera.web import tenancy
from tessera.web.admin.common import Console, console_page, done, message, page, record, whole
from tessera.web.admin.forms import read_form

PAGE = paths.ADMIN_REGISTRATION
# How long a new initial access token may wait for its one use.
LIFETIMES = ((3600, N_("1 hour")), (86_400, N_("1 day")), (7 * 86_400, N_("7 days")), (30 * 86_400, N_("30 days")))
# The notice after the policy is changed, one per policy.
POLICY_SAID = {
    "off": N_("Dynamic client registration is now off."),
    "token": N_("Dynamic client registration is now by initial access token only."),
    "open": N_("Dynamic client registration is now open to anyone."),
}
# The notice after a token is made, one per lifetime.
_CREATED = {
    3600: N_("An initial access token was created; it registers one app within 1 hour."),
    86_400: N_("An initial access token was created; it registers one app within 1 day."),
    7 * 86_400: N_("An initial access token was created; it registers one app within 7 days."),
    30 * 86_400: N_("An initial access token was created; it registers one app within 30 days."),
}
assert set(_CREATED) == set(dict(LIFETIMES))


@console_page
async def index(console: Console, request: Request) -> Response:
    stores, account = console.services.stores, console.account
    tokens = await registration_tokens.list_tokens(stores, account, limit=100)
    own = await clients.list_for_account(stores, account, limit=100)
    return await page(
        console,
        "admin/registration.html",
        section="registration",
        title=console.said(N_("Registration")),
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
    return await done(console, PAGE, console.said(POLICY_SAID[chosen]))


@console_page
async def create_token(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    seconds = whole(form.get("expires_in"))
    if seconds is None or seconds not in dict(LIFETIMES):
        return message(console, N_("Invalid request"), N_("Choose how long the token stays valid from the list."), 400)
    created = await registration_tokens.create(
        console.services.stores, console.account, console.actor, console.now(), seconds
    )
    return await done(console, PAGE, console.said(_CREATED[seconds]), secret=created.full_token)


async def _initial_token(console: Console, request: Request) -> InitialToken:
    find = partial(registration_tokens.get, console.services.stores, console.account)
    missing = (N_("Token not found"), N_("This account has no such initial access token. It may have been revoked."))
    return await record(console, request, "token_id", find, missing)


async def _registered_with(console: Console, token: InitialToken) -> Client | None:
    """The client that registered itself with the token: None while unused, or once deleted."""
    if token.client_id is None:
        return None
    try:
        return await clients.get(console.services.stores, console.account, token.client_id)
    except NotFound:
        return None


@console_page
async def confirm_revoke_token(console: Console, request: Request) -> Response:
    token = await _initial_token(console, request)
    return await page(
        console,
        "admin/registration_token_revoke.html",
        section="registration",
        title=console.said(N_("Revoke token %(prefix)s"), prefix=token.token_prefix),
        token=token,
        registered=await _registered_with(console, token),
    )


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
        return await done(console, PAGE, console.said(N_("That token was already revoked.")), tone="error")
    return await done(console, PAGE, console.said(N_("The initial access token was revoked.")))
