"""A form posted to an account's page: the account host and the form, or the page that
says the form could not be read (400). Sign-in and the password reset pages open alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol.errors import InvalidRequest
from tessera.web import pages, tenancy
from tessera.web import params as param_reader
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def posted(services: Services, request: Request) -> tuple[AccountHost, Params] | Response:
    host = await tenancy.account_host(request, services)
    try:
        form = await param_reader.from_body(request, allow_json=False)
    except InvalidRequest as error:
        return pages.unreadable_form(services.templates, request, error.description, account_name=host.account.name)
    return host, form
