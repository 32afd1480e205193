"""The verification URI of the device grant (RFC 8628 sections 3.3 and 5.4; INTERFACE.md
section 7): GET /device (optionally ?user_code=, the verification_uri_complete), POST
/device to check the code and show the app, POST /device/decision to allow or deny.

The user signs in first (the login page, back here with return_to). A code from the link
is only put in the field, never acted on: RFC 8628 section 5.4 wants the user to compare
it with the device's. Every code entered is counted before it is looked up (throttling.py,
per user and per source address; a right code takes its attempt back), on both POSTs, so
that neither is a way around the limit. Allowing records the consent with the same audit
entry as the consent page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.model import DEVICE_ALLOWED, DeviceCode
from tessera.protocol import device_authorization
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import InvalidRequest
from tessera.reasons import N_
from tessera.web import audit_trail, locales, pages, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.sessions import CurrentSession
from tessera.web.tenancy import AccountHost

_SHOWN = 20  # characters of a code echoed back into the field
WRONG_CODE = N_(
    "That code is not right, or it has expired. Check the code on your device and try again; "
    "if it has expired, start again on the device to get a new one."
)


def _back(user_code: str | None) -> str:
    """This page again, with the code typed so far."""
    return paths.DEVICE + ("?" + urlencode({"user_code": user_code[:_SHOWN]}) if user_code else "")


def _to_login(user_code: str | None, status: int = 303) -> Response:
    """The login page, then back here (303 after a POST, as INTERFACE.md section 4 says)."""
    query = urlencode({"return_to": _back(user_code)})
    return RedirectResponse(paths.LOGIN + "?" + query, status, headers=pages.redirect_headers())


async def _entry_page(
    services: Services,
    request: Request,
    host: AccountHost,
    current: sessions.CurrentSession,
    *,
    user_code: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    user = await services.stores.users.get(host.account.id, current.user_id)
    return pages.render(
        services.templates,
        request,
        "device.html",
        status,
        account_name=host.account.name,
        user=user,
        user_code=user_code[:_SHOWN],
        error=None if error is None else locales.choose(request).gettext(error),
        switch_account_url=paths.LOGIN + "?" + urlencode({"return_to": _back(user_code)}),
        authenticity_token=sessions.authenticity_token(services, current),
    )


def _expired_form(services: Services, request: Request, host: AccountHost) -> Response:
    return pages.message(
        services.templates,
        request,
        N_("This page has expired"),
        N_(
            "The form was not sent from this page, or your session changed since it was shown. "
            "Open the device page again and enter the code."
        ),
        403,
        account_name=host.account.name,
    )


def _throttled(services: Services, request: Request, host: AccountHost, wait: int) -> Response:
    when = locales.choose(request).duration(wait)
    response = pages.render(
        services.templates, request, "device_throttled.html", 429, account_name=host.account.name, when=when
    )
    response.headers["Retry-After"] = str(wait)
    return response


async def _form(services: Services, request: Request, host: AccountHost) -> tuple[Params | None, Response | None]:
    try:
        return await param_reader.from_body(request, allow_json=False), None
    except InvalidRequest as error:
        return None, pages.unreadable_form(
            services.templates, request, error.description, account_name=host.account.name
        )


async def _checked_code(
    services: Services, request: Request, host: AccountHost, current: sessions.CurrentSession, entered: str
) -> DeviceCode | Response:
    """The pending authorization the entered code names, counted against the throttles;
    or the page to answer instead."""
    account_id, user_id = host.account.id, current.user_id
    address = audit_trail.client_address(request)
    now = services.now()
    wait = await services.throttles.user_code_attempt(account_id, user_id, address, now)
    if wait is not None:
        return _throttled(services, request, host, wait)
    normalised = device_authorization.normalise_user_code(entered)
    code = None if normalised is None else await services.stores.device_codes.find_pending(account_id, normalised, now)
    if code is None:
        return await _entry_page(services, request, host, current, user_code=entered, error=WRONG_CODE, status=400)
    await services.throttles.user_code_right(account_id, user_id, address)
    return code


async def show(services: Services, request: Request) -> Response:
    """GET /device: the code field, filled in from ?user_code= when the link carried one."""
    host = await tenancy.account_host(request, services)
    try:
        query = param_reader.from_query(request)
    except InvalidRequest:
        query = Params(values={}, repeated=frozenset())
    user_code = (query.get("user_code") or "")[:_SHOWN]
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login(user_code, 302)
    return await _entry_page(services, request, host, current, user_code=user_code)


@dataclass(frozen=True, slots=True)
class _Posted:
    host: AccountHost
    form: Params
    current: CurrentSession
    entered: str  # the user code as typed, trimmed


async def _signed_in_post(services: Services, request: Request) -> Response | _Posted:
    """What both POSTs check first: the form, a signed-in user (else the login page, then
    back with the code) and the CSRF token (else the expired-form page)."""
    host = await tenancy.account_host(request, services)
    form, refused = await _form(services, request, host)
    if form is None:
        assert refused is not None
        return refused
    entered = (form.get("user_code") or "").strip()
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login(entered)
    if not sessions.valid_authenticity_token(services, current, form.get("authenticity_token")):
        return _expired_form(services, request, host)
    return _Posted(host, form, current, entered)


async def check(services: Services, request: Request) -> Response:
    """POST /device: a code entered; the app and its scopes when it is right."""
    posted = await _signed_in_post(services, request)
    if isinstance(posted, Response):
        return posted
    host, current, entered = posted.host, posted.current, posted.entered
    if not entered:
        return await _entry_page(
            services, request, host, current, error=N_("Enter the code shown on your device."), status=400
        )
    found = await _checked_code(services, request, host, current, entered)
    if isinstance(found, Response):
        return found
    client = await services.stores.clients.find_by_numeric_id(host.account.id, found.client_id)
    if client is None:  # deleted since the device asked: its codes went with it
        return await _entry_page(services, request, host, current, user_code=entered, error=WRONG_CODE, status=400)
    user = await services.stores.users.get(host.account.id, current.user_id)
    return pages.render(
        services.templates,
        request,
        "device_confirm.html",
        account_name=host.account.name,
        client=client,
        user=user,
        user_code=device_authorization.display_user_code(found.user_code),
        scope_lines=scope_rules.describe(found.scopes, locales.choose(request).gettext),
        authenticity_token=sessions.authenticity_token(services, current),
    )


async def decide(services: Services, request: Request) -> Response:
    """POST /device/decision: Allow or Deny; then the page saying to go back to the device."""
    posted = await _signed_in_post(services, request)
    if isinstance(posted, Response):
        return posted
    host, form, current, entered = posted.host, posted.form, posted.current, posted.entered
    if "decision" in form.repeated:
        return pages.message(
            services.templates,
            request,
            N_("Invalid request"),
            N_("The form was sent with its decision twice."),
            400,
            account_name=host.account.name,
        )
    found = await _checked_code(services, request, host, current, entered)
    if isinstance(found, Response):
        return found
    client = await services.stores.clients.find_by_numeric_id(host.account.id, found.client_id)
    if client is None:
        return await _entry_page(services, request, host, current, user_code=entered, error=WRONG_CODE, status=400)
    allow = form.get("decision") == "allow"
    now = services.now()
    decided = await services.stores.device_codes.decide(
        found.id, current.user_id, current.session.auth_time, allow, now
    )
    if not decided:  # expired, or decided in another tab, since the code was checked
        return await _entry_page(services, request, host, current, user_code=entered, error=WRONG_CODE, status=400)
    if allow:
        # The same consent, and the same audit entry, as the consent page's Allow.
        await services.stores.consents.remember(
            host.account.id,
            current.user_id,
            client.id,
            found.scopes,
            now,
            await audit_trail.consent_given(services, request, host.account, current.user_id, client, found.scopes),
        )
    # Post/Redirect/Get: the page that says what was decided is a GET, so reloading it or
    # coming back to it says the same again instead of sending the decision a second time
    # (which found the code decided, said it was wrong, and counted a wrong code).
    query = urlencode({"user_code": found.user_code})
    return RedirectResponse(f"{paths.DEVICE_DECISION}?{query}", 303, headers=pages.redirect_headers())


async def outcome(services: Services, request: Request) -> Response:
    """GET /device/decision?user_code=...: what the signed-in user decided for that code.
    Only their own decisions are shown, so it tells nobody anything about other codes."""
    host = await tenancy.account_host(request, services)
    try:
        entered = (param_reader.from_query(request).get("user_code") or "")[:_SHOWN]
    except InvalidRequest:
        entered = ""
    current = await sessions.current(request, services, host.account)
    if current is None:
        return _to_login(entered, 302)
    normalised = device_authorization.normalise_user_code(entered)
    decided = (
        None
        if normalised is None
        else await services.stores.device_codes.find_decided(host.account.id, normalised, current.user_id)
    )
    client = (
        None
        if decided is None
        else await services.stores.clients.find_by_numeric_id(host.account.id, decided.client_id)
    )
    if decided is None or client is None:
        return await _entry_page(services, request, host, current)
    if decided.status == DEVICE_ALLOWED:
        title = N_("Device connected")
        text = N_("%(app)s can now use your %(account)s account. Go back to your device to continue.")
    else:
        title = N_("Access denied")
        text = N_("%(app)s was not given access. Go back to your device; it will show that you said no.")
    said = locales.choose(request).gettext
    title, text = said(title), said(text) % {"app": client.name, "account": host.account.name}
    return pages.render(
        services.templates,
        request,
        "device_done.html",
        account_name=host.account.name,
        title=title,
        text=text,
        allowed=decided.status == DEVICE_ALLOWED,
    )
