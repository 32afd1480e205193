"""GET|POST /access/login: the sign-in page (INTERFACE.md section 4).

`return_to` accepts only a path on this host (no open redirect). With select_account=1
and somebody signed in, the page offers "Continue as ..." beside the form (OIDC Core
3.1.2.1 prompt=select_account).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import i18n, paths, sign_in
from tessera.model import Account, User
from tessera.protocol.errors import InvalidRequest
from tessera.protocol.ports import SignInRefused
from tessera.reasons import N_
from tessera.web import audit_trail, locales, page_forms, pages, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.services import Services


def safe_return_to(value: str | None) -> str:
    """A path on this host, or "/": never another origin (CWE-601)."""
    if not value or not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    if any(ord(c) < 0x20 or c == "\\" for c in value):
        return "/"
    return value


async def _asking_client(services: Services, account: Account, return_to: str) -> str | None:
    """The name of the app whose authorization request sent the user here, if any."""
    path, _, query = return_to.partition("?")
    if path != paths.AUTHORIZE:
        return None
    client_id = parse_qs(query).get("client_id", [""])[0]
    client = await services.stores.clients.find(account.id, client_id) if client_id else None
    return None if client is None else client.name


async def _page(
    services: Services,
    request: Request,
    account: Account,
    *,
    return_to: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
    signed_in: User | None = None,
    select_account: bool = False,
    headers: dict[str, str] | None = None,
    ui_locales: str | None = None,
) -> Response:
    token, new_cookie = sessions.login_form_token(request, services)
    client_name = await _asking_client(services, account, return_to)
    response = pages.render(
        services.templates,
        request,
        "login.html",
        status,
        account_name=account.name,
        return_to=return_to,
        email=email,
        error=None if error is None else locales.choose(request).gettext(error),
        signed_in=signed_in,
        select_account=select_account and signed_in is not None,
        authenticity_token=token,
        client_name=client_name,
        # The device grant's page (RFC 8628 section 3.3) sent the user here.
        for_device=return_to.partition("?")[0] == paths.DEVICE,
        ui_locales=_ui_locales(ui_locales),
    )
    sessions.set_login_cookie(response, services, new_cookie)
    if headers:
        response.headers.update(headers)
    return response


def _refusal(request: Request, refused: SignInRefused) -> str:
    """Why the sign-in failed, in the page's language (the password grant says it in English)."""
    choice = locales.choose(request)
    if refused.retry_after is not None:
        text = choice.gettext(N_("Too many failed sign-ins from here or for this email; try again in %(wait)s."))
        return text % {"wait": choice.duration(refused.retry_after)}
    if str(refused) == sign_in.SUSPENDED:
        return N_("This user account is suspended; contact an admin of the account to restore it.")
    return N_("The email or password is wrong.")


def _ui_locales(value: str | None) -> str:
    """The authorization request's ui_locales (OIDC Core 1.0 section 3.1.2.1) that the
    sign-in form carries to its POST, so that a failed sign-in speaks the app's language
    too; nothing when it names no language we have."""
    return value if value and len(value) <= 512 and i18n.preferred(value) else ""


async def _signed_in_user(
    services: Services, request: Request, account: Account
) -> tuple[sessions.CurrentSession | None, User | None]:
    current = await sessions.current(request, services, account)
    if current is None:
        return None, None
    return current, await services.stores.users.get(account.id, current.user_id)


async def show(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    try:
        query = param_reader.from_query(request)
    except InvalidRequest:
        query = param_reader.Params(values={}, repeated=frozenset())
    _, user = await _signed_in_user(services, request, host.account)
    return await _page(
        services,
        request,
        host.account,
        return_to=safe_return_to(query.get("return_to")),
        email=query.get("email") or "",
        signed_in=user,
        select_account=query.get("select_account") == "1",
        ui_locales=query.get(locales.UI_LOCALES),
    )


async def submit(services: Services, request: Request) -> Response:
    posted = await page_forms.posted(services, request)
    if isinstance(posted, Response):
        return posted
    host, form = posted
    account = host.account
    return_to = safe_return_to(form.get("return_to"))
    ui_locales = _ui_locales(form.get(locales.UI_LOCALES))
    locales.hint(request, ui_locales)
    if not sessions.valid_login_form_token(request, services, form.get("authenticity_token")):
        return await _page(
            services,
            request,
            account,
            return_to=return_to,
            ui_locales=ui_locales,
            status=403,
            error=N_("This sign-in form expired, or your browser blocks cookies. Please try again."),
        )
    current, user = await _signed_in_user(services, request, account)
    if form.get("action") == "continue" and current is not None:
        return RedirectResponse(return_to, 303)
    email = (form.get("email") or "").strip()
    password = form.get("password") or ""
    if not email or not password:
        return await _page(
            services,
            request,
            account,
            return_to=return_to,
            ui_locales=ui_locales,
            email=email,
            status=400,
            error=N_("Enter your email and password."),
            signed_in=user,
        )
    try:
        signed = await services.authenticator.authenticate(
            account.id, email, password, services.now(), ip_address=audit_trail.client_address(request)
        )
    except SignInRefused as refused:
        throttled = refused.retry_after is not None
        return await _page(
            services,
            request,
            account,
            return_to=return_to,
            ui_locales=ui_locales,
            email=email,
            status=429 if throttled else 401,
            error=_refusal(request, refused),
            signed_in=user,
            headers={"Retry-After": str(refused.retry_after)} if throttled else None,
        )
    response = RedirectResponse(return_to, 303)
    await sessions.start(request, response, services, account, signed.id)
    return response
