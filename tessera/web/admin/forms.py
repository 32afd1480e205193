"""Reading a console form: the posted body, refused unless it is a URL-encoded form of
UTF-8 without NUL, within MAX_FIELDS fields, and carrying the session's CSRF token
(INTERFACE.md section 5); then its values by name (Form).

Apart from common.py because it is the one place the console reads a request body, with
its own refusals (400, and 403 for a missing or stale token); the pages that only show
records never import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol.errors import InvalidRequest
from tessera.reasons import N_
from tessera.web import params, sessions
from tessera.web.admin.common import Answered, Console, message
from tessera.web.headers import header

MAX_FIELDS = 200


@dataclass(frozen=True, slots=True)
class Form:
    """A posted form: every value of every field, blank ones included."""

    values: dict[str, list[str]]

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[0] if found else ""

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])


def _unreadable(console: Console, reason: str) -> Response:
    """400: a form the console could not read; the reason, for developers, in English."""
    return message(
        console,
        N_("Invalid request"),
        N_("The form could not be read (%(reason)s). Go back to the page and try again."),
        400,
        values={"reason": reason.rstrip(".")},
    )


async def read_form(console: Console, request: Request) -> Form:
    """The posted form, once its CSRF token is checked; raises Answered with the page that
    refuses it."""
    media_type = (header(request, b"content-type") or "").split(";", 1)[0].strip().lower()
    try:
        body = await params.read_body(request)
        if body and media_type != "application/x-www-form-urlencoded":
            raise InvalidRequest("the console accepts only forms (application/x-www-form-urlencoded)")
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except InvalidRequest as error:
        raise Answered(_unreadable(console, error.description)) from None
    except ValueError as error:  # bad UTF-8, too many fields
        raise Answered(_unreadable(console, f"The form could not be read: {error}.")) from None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\x00" in value:
            raise Answered(
                message(
                    console,
                    N_("Invalid request"),
                    N_("The field %(name)s contains a NUL character."),
                    400,
                    values={"name": repr(name[:40])},
                )
            )
        values.setdefault(name, []).append(value)
    form = Form(values)
    if not sessions.valid_authenticity_token(console.services, console.current, form.get("authenticity_token")):
        raise Answered(
            message(
                console,
                N_("This page has expired"),
                N_("The form was sent without its security token, or from an old page. Reload the page and try again."),
                403,
            )
        )
    return form
