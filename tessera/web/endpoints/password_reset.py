"""GET|POST /access/password/forgot and /access/password/reset, GET
/access/password/reset/done: password reset by e-mail (docs/password-reset.md; the rules
live in tessera/password_reset.py).

The forgot page answers the same whether or not the address has a user (no account
enumeration), and never fails because of the mail server: the e-mail leaves in the
background. Both forms carry the login form's CSRF token (no session exists yet). A new
password set answers with a redirect to the done page (Post/Redirect/Get).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import i18n, password_strength, passwords, paths, throttling
from tessera.model import Account
from tessera.reasons import N_
from tessera.web import audit_trail, locales, page_forms, pages, sessions, tenancy
from tessera.web.services import Services

EXPIRED_FORM = N_("This form expired, or your browser blocks cookies. Please try again.")


def _render(
    services: Services, request: Request, account: Account, template: str, status: int = 200, **context: Any
) -> Response:
    token, new_cookie = sessions.login_form_token(request, services)
    if context.get("error"):
        context["error"] = locales.choose(request).gettext(context["error"])
    response = pages.render(
        services.templates,
        request,
        template,
        status,
        account_name=account.name,
        authenticity_token=token,
        smtp_configured=services.settings.smtp_configured,
        minutes=services.settings.password_reset_lifetime // 60,
        **context,
    )
    sessions.set_login_cookie(response, services, new_cookie)
    return response


async def forgot(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    email = (request.query_params.get("email") or "").strip()[:254]
    return _render(services, request, host.account, "password_forgot.html", email=email)


async def forgot_submit(services: Services, request: Request) -> Response:
    posted = await page_forms.posted(services, request)
    if isinstance(posted, Response):
        return posted
    host, form = posted
    account = host.account
    email = (form.get("email") or "").strip()[:254]
    if not sessions.valid_login_form_token(request, services, form.get("authenticity_token")):
        return _render(services, request, account, "password_forgot.html", 403, email=email, error=EXPIRED_FORM)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        problem = N_("Enter the e-mail address you sign in with, such as name@example.com.")
        return _render(services, request, account, "password_forgot.html", 400, email=email, error=problem)
    if not services.settings.smtp_configured:
        return _render(services, request, account, "password_forgot.html", email=email)
    requested = await services.password_resets.request(
        account,
        email,
        audit_trail.client_address(request),
        services.now(),
        host.issuer + paths.PASSWORD_RESET,
        locales.choose(request).code,
    )
    if requested.retry_after is not None:
        choice = locales.choose(request)
        problem = choice.gettext(
            N_("Too many reset links were asked for from here or for this address. Try again in %(wait)s.")
        ) % {"wait": choice.duration(requested.retry_after)}
        response = _render(services, request, account, "password_forgot.html", 429, email=email, error=problem)
        response.headers["Retry-After"] = str(requested.retry_after)
        return response
    return _render(services, request, account, "password_forgot_sent.html", email=email)


async def reset(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    token = request.query_params.get("token") or ""
    usable = await services.password_resets.usable(host.account, token, services.now())
    if usable is None:
        return _render(services, request, host.account, "password_reset_unusable.html", 400)
    _, user = usable
    return _render(services, request, host.account, "password_reset.html", token=token, user=user)


async def reset_submit(services: Services, request: Request) -> Response:
    posted = await page_forms.posted(services, request)
    if isinstance(posted, Response):
        return posted
    host, form = posted
    account = host.account
    token = form.get("token") or ""
    now = services.now()
    usable = await services.password_resets.usable(account, token, now)
    if usable is None:
        return _render(services, request, account, "password_reset_unusable.html", 400)
    _, user = usable

    def again(status: int, error: str) -> Response:
        return _render(services, request, account, "password_reset.html", status, token=token, user=user, error=error)

    if not sessions.valid_login_form_token(request, services, form.get("authenticity_token")):
        return again(403, EXPIRED_FORM)
    password = form.get("password") or ""
    if password != (form.get("password_confirmation") or ""):
        return again(400, N_("The two passwords are not the same. Type the new password twice."))
    address = audit_trail.client_address(request)
    try:
        done = await services.password_resets.complete(account, token, user, password, address, now)
    except passwords.PasswordProblem as problem:
        return again(400, _password_problem(request, str(problem)))
    if done is None:
        return _render(services, request, account, "password_reset_unusable.html", 400)
    # Who can read the e-mail may sign in again at once, whatever failures were counted.
    await services.stores.throttles.clear(throttling.SIGN_IN_EMAIL, throttling.email_key(account.id, done.email))
    # Post/Redirect/Get: the page that says the password is set is a GET, so reloading it
    # says the same again instead of sending the spent token a second time (which found
    # the link used and said it no longer works, to a user who had just succeeded).
    response = RedirectResponse(paths.PASSWORD_RESET_DONE, 303, headers=pages.redirect_headers())
    # The sessions ended with the reset; this browser's cookie is dropped too.
    await sessions.end(request, response, services)
    return response


async def done(services: Services, request: Request) -> Response:
    """GET /access/password/reset/done: where a new password set lands. Its URL holds no
    token and it shows nothing of any user, so whoever opens it learns nothing: it says
    what a reset does and links to the sign-in page of the account whose host it is on."""
    host = await tenancy.account_host(request, services)
    return pages.render(services.templates, request, "password_reset_done.html", account_name=host.account.name)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# What passwords.check_policy refuses, as whole sentences to translate.
_PASSWORD_PROBLEMS: dict[str, str] = {
    password_strength.COMMON: N_(
        "This password is one of the most common passwords; pick a passphrase of three or four "
        "unrelated words, or let a password manager make one."
    ),
    password_strength.DISGUISED: N_(
        "This password is a common password with small changes; pick a passphrase of three or four "
        "unrelated words, or let a password manager make one."
    ),
    password_strength.PERSONAL: N_(
        "This password is too easy to guess for someone who knows your name, e-mail or account; "
        "pick a passphrase of three or four unrelated words, or let a password manager make one."
    ),
}
_GUESSABLE = N_(
    "This password is too easy to guess; pick a passphrase of three or four unrelated words, "
    "or let a password manager make one."
)


def _password_problem(request: Request, problem: str) -> str:
    """The refusal in the page's language (a message for _render to translate, or a sentence
    already translated). zxcvbn's reasons for a guessable password are English: English pages
    keep them, the others say the same without."""
    if problem in _PASSWORD_PROBLEMS:
        return _PASSWORD_PROBLEMS[problem]
    choice = locales.choose(request)
    if problem.startswith("password must be at least"):
        text = choice.translations.ngettext(
            "The password must be at least %(num)d character long.",
            "The password must be at least %(num)d characters long.",
            passwords.MIN_LENGTH,
        )
        return text % {"num": passwords.MIN_LENGTH}
    if problem.startswith("password may be at most"):
        return choice.gettext(N_("The password may be at most %(num)d characters long.")) % {
            "num": passwords.MAX_LENGTH
        }
    if choice.code == i18n.DEFAULT:
        return _sentence(problem)
    return _GUESSABLE
