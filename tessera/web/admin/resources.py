"""Console: the protected resources the account's tokens may be for (INTERFACE.md section 8,
RFC 8707): list, register (URI, name, the scopes it allows), delete after a confirmation
page. The account's own API is shown first: a resource without being registered.
"""

from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.management import resources
from tessera.management.errors import Invalid, ManagementError
from tessera.model import Resource
from tessera.protocol import resource_indicators
from tessera.protocol import resource_metadata as metadata
from tessera.reasons import N_
from tessera.web import tenancy
from tessera.web.admin.common import Console, console_page, done, page, record
from tessera.web.admin.forms import read_form

LIST = paths.ADMIN_RESOURCES


async def _issuer(console: Console, request: Request) -> str:
    return (await tenancy.account_host(request, console.services)).issuer


@console_page
async def index(console: Console, request: Request) -> Response:
    found = await resources.list_for_account(console.services.stores, console.account, limit=100)
    issuer = await _issuer(console, request)
    return await page(
        console,
        "admin/resources.html",
        section="resources",
        title=console.said(N_("Resources")),
        resources=found,
        api=resource_indicators.account_api(issuer),
        metadata_url=metadata.url(issuer),
    )


async def _new_page(console: Console, values: dict[str, str], errors: dict[str, list[str]], status: int) -> Response:
    return await page(
        console, "admin/resource_new.html", section="resources", title=console.said(N_("New resource")), status=status,
        values=values, errors=errors,
    )  # fmt: skip


@console_page
async def new(console: Console, request: Request) -> Response:
    return await _new_page(console, {"uri": "", "name": "", "scopes": ""}, {}, 200)


@console_page
async def create(console: Console, request: Request) -> Response:
    form = await read_form(console, request)
    values = {"uri": form.get("uri").strip(), "name": form.get("name").strip(), "scopes": form.get("scopes").strip()}
    spec = resources.ResourceSpec(uri=values["uri"], name=values["name"], scopes=tuple(values["scopes"].split()))
    try:
        resource = await resources.create(
            console.services.stores,
            console.account,
            await _issuer(console, request),
            spec,
            console.now(),
            console.actor,
        )
    except ManagementError as error:
        errors = dict(error.fields) if isinstance(error, Invalid) else {"": [str(error)]}
        return await _new_page(console, values, errors, 422)
    text = console.said(
        N_("%(resource)s was registered: clients may ask for tokens for %(uri)s."),
        resource=resource.name,
        uri=resource.uri,
    )
    return await done(console, LIST, text)


async def _resource(console: Console, request: Request) -> Resource:
    find = partial(resources.get, console.services.stores, console.account)
    missing = (N_("Resource not found"), N_("This account has no such resource. It may have been deleted."))
    return await record(console, request, "resource_id", find, missing)


@console_page
async def confirm_delete(console: Console, request: Request) -> Response:
    resource = await _resource(console, request)
    return await page(
        console,
        "admin/resource_delete.html",
        section="resources",
        title=console.said(N_("Delete %(resource)s"), resource=resource.name),
        resource=resource,
    )


@console_page
async def delete(console: Console, request: Request) -> Response:
    resource = await _resource(console, request)
    await read_form(console, request)  # for its CSRF check: the form carries nothing else
    await resources.delete(console.services.stores, console.account, resource.id, console.actor, console.now())
    text = console.said(N_("%(resource)s was deleted; no new tokens may be for it."), resource=resource.name)
    return await done(console, LIST, text)
