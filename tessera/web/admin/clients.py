"""Console: the account's OAuth clients (INTERFACE.md section 6, "Clients").

List; create and edit (redirect URIs one per line, each error beside the field with its
line); delete after a confirmation page; regenerate the secret, optionally keeping the old
one working a while. A new secret is shown exactly once, on the next page (notices.py).
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import client_secrets, clients
from tessera.management.errors import Invalid, ManagementError
from tessera.model import Client
from tessera.reasons import N_, R_
from tessera.web.admin import client_form
from tessera.web.admin.client_form import ClientForm
from tessera.web.admin.common import Console, console_page, done, message, page, record, whole
from tessera.web.admin.forms import read_form

LIST = paths.ADMIN_CLIENTS
# How long the old secret keeps working after a regeneration (0 to 604800 s).
OVERLAPS = ((0, N_("Stop working now")), (3600, N_("1 hour")), (86400, N_("1 day")), (604800, N_("7 days")))
# Chosen unless the admin picks another: one click must not cut a working integration off
# at once; stopping the old secret now (a leak) is a deliberate choice.
DEFAULT_OVERLAP = 86400
# The same, said after "keeps working for" in the notice of a regeneration.
_KEEPS_WORKING = {
    3600: N_("The old secret keeps working for 1 hour."),
    86400: N_("The old secret keeps working for 1 day."),
    604800: N_("The old secret keeps working for 7 days."),
}


def _path(client: Client) -> str:
    return f"{LIST}/{client.id}"


@console_page
async def index(console: Console, request: Request) -> Response:
    found = await clients.list_for_account(console.services.stores, console.account, limit=100)
    return await page(
        console, "admin/clients.html", section="clients", title=console.said(N_("OAuth clients")), clients=found
    )


async def _form_page(console: Console, shown: ClientForm, client: Client | None, status: int = 200) -> Response:
    return await page(
        console,
        "admin/client.html" if client is not None else "admin/client_new.html",
        section="clients",
        title=client.name if client is not None else console.said(N_("New client")),
        status=status,
        client=client,
        form=shown,
        overlaps=OVERLAPS,
        default_overlap=DEFAULT_OVERLAP,
        **client_form.options(),
    )


# Every box unticked: the CLI and the API read "no grant types" as the defaults, but a form
# whose boxes were all cleared on purpose must not be saved as two of them ticked again.
_NO_GRANT = Invalid.one("grant_types", R_("choose at least one grant type"))


def _refused(shown: ClientForm, error: ManagementError) -> ClientForm:
    if isinstance(error, Invalid):
        for name, messages in error.fields.items():
            shown.errors.setdefault(name, []).extend(messages)
    else:
        shown.errors.setdefault("", []).append(str(error))
    return shown


@console_page
async def new(console: Console, request: Request) -> Response:
    return await _form_page(console, client_form.blank(), None)


@console_page
async def create(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    shown = client_form.posted(form)
    if not shown.values["grant_types"]:
        return await _form_page(console, _refused(shown, _NO_GRANT), None, 422)
    spec = client_form.spec(shown, console.account, console.admin)
    try:
        client, secret = await clients.create(console.services.stores, spec, console.now(), actor=console.actor)
    except ManagementError as error:
        return await _form_page(console, _refused(shown, error), None, 422)
    if client.jwks:
        created = N_(
            "%(client)s was created. It authenticates with its registered keys (private_key_jwt): it has no secret."
        )
    elif not secret:
        created = N_("%(client)s was created. It is a public client: it has no secret.")
    else:
        created = N_("%(client)s was created.")
    text = console.said(created, client=client.name)
    return await done(console, _path(client), text, secret=secret, client_id=client.id)


async def _client(console: Console, request: Request) -> Client:
    find = partial(clients.get, console.services.stores, console.account)
    missing = (N_("Client not found"), N_("This account has no such client. It may have been deleted."))
    return await record(console, request, "client_id", find, missing)


@console_page
async def edit(console: Console, request: Request) -> Response:
    client = await _client(console, request)
    return await _form_page(console, client_form.of_client(client), client)


@console_page
async def update(console: Console, request: Request) -> Response:
    client = await _client(console, request)
    form = await read_form(console, request)
    shown = client_form.posted(form)
    if not shown.values["grant_types"]:
        return await _form_page(console, _refused(shown, _NO_GRANT), client, 422)
    changes = client_form.changes(shown)
    try:
        updated = await clients.update(
            console.services.stores, console.account, client.id, changes, console.actor, console.now()
        )
    except ManagementError as error:
        return await _form_page(console, _refused(shown, error), client, 422)
    return await done(console, _path(updated), console.said(N_("%(client)s was saved."), client=updated.name))


@console_page
async def confirm_delete(console: Console, request: Request) -> Response:
    client = await _client(console, request)
    return await page(
        console,
        "admin/client_delete.html",
        section="clients",
        title=console.said(N_("Delete %(client)s"), client=client.name),
        client=client,
    )


@console_page
async def delete(console: Console, request: Request) -> Response:
    client = await _client(console, request)
    await read_form(console, request)  # for its CSRF check: the form carries nothing else
    await clients.delete(console.services.stores, console.account, client.id, console.actor, console.now())
    text = console.said(N_("%(client)s was deleted; its tokens no longer work."), client=client.name)
    return await done(console, LIST, text)


@console_page
async def regenerate(console: Console, request: Request) -> Response:
    client = await _client(console, request)
    form = await read_form(console, request)
    overlap = whole(form.get("previous_secret_expires_in") or "0")
    if overlap is None or overlap not in dict(OVERLAPS):
        return message(
            console, N_("Invalid request"), N_("Choose how long the old secret keeps working from the list."), 400
        )
    try:
        updated, secret = await client_secrets.regenerate_secret(
            console.services.stores,
            console.account,
            client.id,
            console.actor,
            console.now(),
            previous_secret_expires_in=overlap,
        )
    except ManagementError as error:
        return await done(console, _path(client), str(error), tone="error")
    old = console.said(_KEEPS_WORKING[overlap] if overlap else N_("The old secret stopped working."))
    text = console.said(N_("A new secret was generated. %(old)s"), old=old)
    return await done(console, _path(updated), text, secret=secret, client_id=updated.id)
