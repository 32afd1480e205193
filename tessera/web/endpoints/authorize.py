"""The authorization endpoint: GET or POST /oauth/authorizations/new (RFC 6749 section 3.1,
OIDC Core section 3.1.2.1) and the consent form's POST /oauth/authorizations. The rules
live in protocol/authorization.py and authorization_trust.py; this module reads the
request, keeps the session and decides what to answer; authorize_answers.py renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tessera import paths
from tessera.model import Client
from tessera.protocol import authorization, authorization_response, authorization_trust, id_token, pushed_authorization
from tessera.protocol.authorization import SignedIn
from tessera.protocol.authorization_trust import PageError, Reply
from tessera.protocol.errors import AccessDenied, InvalidRequest, OAuthError
from tessera.reasons import N_
from tessera.web import audit_trail, locales, pages, responses, sessions, tenancy
from tessera.web import params as param_reader
from tessera.web.endpoints import authorize_answers as answers
from tessera.web.endpoints import platform
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost, PlatformHost


@dataclass(frozen=True, slots=True)
class Trusted:
    """Steps 1 and 2 passed: the client, where its response goes, the parameters that make
    the request, and those the login redirect and consent form carry (the same, unless the
    request was pushed: RFC 9126, protocol/pushed_authorization.py)."""

    client: Client
    reply: Reply
    params: Params
    carried: Params
    flow: pushed_authorization.Flow | None


async def _trusted(
    services: Services, request: Request, host: AccountHost, params: Params, auth_time: float | None
) -> Trusted:
    """Steps 1 and 2, or a PageError. `auth_time`: the session's sign-in, which decides what
    a pushed request resumed after the login page still demands."""
    # A client named by its metadata document is first used here (fetching/client_documents.py).
    documents = services.documents.registering(audit_trail.client_address(request))
    if "request_uri" not in params.values:
        client, reply = await authorization_trust.trusted(
            services.stores.clients, host.account, params.values, params.repeated, documents
        )
        return Trusted(client, reply, params, params, None)
    pending = await pushed_authorization.resolve(
        params.values,
        params.repeated,
        host.account,
        services.now(),
        clients=services.stores.clients,
        store=services.stores.pushed_requests,
        documents=documents,
    )
    return Trusted(
        pending.client,
        pending.reply,
        Params(values=pushed_authorization.params_on_return(pending, auth_time), repeated=frozenset()),
        Params(values=pending.flow.carried, repeated=frozenset()),
        pending.flow,
    )


async def _close_flow(services: Services, request: Request, host: AccountHost, trusted: Trusted) -> Response | None:
    """Before a response goes to the client: a pushed request's flow closes, once (RFC 9126
    section 7.3), so a form sent twice cannot draw a second response; that one gets a page."""
    if trusted.flow is None:
        return None
    try:
        await pushed_authorization.complete(
            services.stores.pushed_requests, host.account.id, trusted.flow, services.now()
        )
    except PageError as error:
        return answers.page_error(services, request, host, error)
    return None


async def _authorize(services: Services, request: Request, host: AccountHost, sent: Params) -> Response:
    current = await sessions.current(request, services, host.account)
    try:
        trusted = await _trusted(services, request, host, sent, None if current is None else current.session.auth_time)
    except PageError as error:
        return answers.page_error(services, request, host, error)
    client, reply, params = trusted.client, trusted.reply, trusted.params
    posted = request.method == "POST"  # an authorization request sent as a form (OIDC Core 3.1.2.1)
    # The app's languages for these pages: a pushed request's are in what it pushed.
    locales.hint(request, params.get(locales.UI_LOCALES))
    try:
        auth_request = authorization.parse(
            params.values, params.repeated, client, reply, pushed=trusted.flow is not None
        )
        auth_request = await authorization.with_resources(
            auth_request, host.account.id, host.issuer, services.stores.resources
        )
        hint = params.get("id_token_hint")
        if hint:
            published = await services.keys.published(host.account.id)
            auth_request = authorization.with_hint(auth_request, id_token.hint_claims(hint, published, host.issuer))
        signed_in = None if current is None else SignedIn(current.user_id, current.session.auth_time)
        grant = None if current is None else await services.stores.consents.find(current.user_id, client.id)
        step = authorization.next_step(auth_request, signed_in, None if grant is None else grant.scopes, services.now())
        if step in (authorization.LOGIN, authorization.SELECT_ACCOUNT):
            return answers.to_login(
                trusted.carried, step, auth_request.login_hint, params.get(locales.UI_LOCALES), after_post=posted
            )
    except OAuthError as error:
        responses.log_debug(error)
        return await _close_flow(services, request, host, trusted) or answers.deliver(
            services, request, reply, authorization_response.error_params(error, reply, host.issuer), after_post=posted
        )
    assert current is not None
    if step == authorization.CONSENT:
        return await answers.consent_page(
            services, request, host, auth_request, trusted.carried, current, params.get(locales.UI_LOCALES)
        )
    return await _close_flow(services, request, host, trusted) or await answers.issue(
        services, request, host, auth_request, current, after_post=posted
    )


async def new(services: Services, request: Request) -> Response:
    """GET or POST /oauth/authorizations/new. OIDC Core 3.1.2.1: "Authorization Servers
    MUST support the use of the HTTP GET and POST methods"; with POST the parameters are a
    form body (application/x-www-form-urlencoded)."""
    host = await tenancy.resolve(request, services)
    if isinstance(host, PlatformHost):
        if request.method == "POST":
            # The account chooser reads the request from its URL: the same request by GET.
            return await _as_get(request)
        return await platform.chooser(services, request, host)
    try:
        if request.method == "POST":
            params = await param_reader.from_body(request, allow_json=False)
        else:
            params = param_reader.from_query(request)
    except InvalidRequest as error:
        return answers.page_error(services, request, host, PageError("Invalid request", error.description))
    return await _authorize(services, request, host, params)


async def _as_get(request: Request) -> Response:
    try:
        params = await param_reader.from_body(request, allow_json=False)
    except InvalidRequest as error:
        return responses.problem(400, error.error, error.description)
    query = urlencode(params.values)
    return RedirectResponse(paths.AUTHORIZE + ("?" + query if query else ""), 303, headers=pages.redirect_headers())


async def decide(services: Services, request: Request) -> Response:
    """POST /oauth/authorizations: the consent form's Allow or Deny; on the platform host,
    the account chooser's Cancel."""
    host = await tenancy.resolve(request, services)
    if isinstance(host, PlatformHost):
        return await platform.cancel(services, request, host)
    try:
        form = await param_reader.from_body(request, allow_json=False)
    except InvalidRequest as error:
        return answers.page_error(services, request, host, PageError("Invalid request", error.description))
    if form.repeated.intersection(answers.FORM_FIELDS):
        return answers.page_error(
            services, request, host, PageError("Invalid request", "The consent form was sent with its decision twice.")
        )
    params = Params(
        values={k: v for k, v in form.values.items() if k not in answers.FORM_FIELDS}, repeated=form.repeated
    )
    locales.hint(request, params.get(locales.UI_LOCALES))  # the consent form carries the request's
    current = await sessions.current(request, services, host.account)
    if current is None:
        # The session ended while the consent page was open: sign in, then see it again.
        try:
            return answers.to_login(params, authorization.LOGIN)
        except InvalidRequest as error:
            return answers.page_error(services, request, host, PageError("Invalid request", error.description))
    if not sessions.valid_authenticity_token(services, current, form.get("authenticity_token")):
        return pages.message(
            services.templates,
            request,
            N_("This page has expired"),
            N_(
                "The form was not sent from this page, or your session changed since it was shown. "
                "Go back to the application and start again."
            ),
            403,
            account_name=host.account.name,
        )
    try:
        trusted = await _trusted(services, request, host, params, current.session.auth_time)
    except PageError as error:
        return answers.page_error(services, request, host, error)
    client, reply, params = trusted.client, trusted.reply, trusted.params
    locales.hint(request, params.get(locales.UI_LOCALES))
    decision = form.get("decision")
    try:
        auth_request = authorization.parse(
            params.values, params.repeated, client, reply, pushed=trusted.flow is not None
        )
        auth_request = await authorization.with_resources(
            auth_request, host.account.id, host.issuer, services.stores.resources
        )
        # A demand to sign in the request still makes (a pushed prompt=login or max_age with no
        # sign-in since it was claimed) is not answered by a consent form.
        signed_in = SignedIn(current.user_id, current.session.auth_time)
        step = authorization.next_step(auth_request, signed_in, None, services.now())
        if step in (authorization.LOGIN, authorization.SELECT_ACCOUNT):
            return answers.to_login(trusted.carried, step, auth_request.login_hint, after_post=True)
        if decision != "allow":
            raise AccessDenied("the user denied the request")
    except OAuthError as error:
        responses.log_debug(error)
        return await _close_flow(services, request, host, trusted) or answers.deliver(
            services, request, reply, authorization_response.error_params(error, reply, host.issuer), after_post=True
        )
    # Closed before consent is stored: a form sent twice answers once.
    closed = await _close_flow(services, request, host, trusted)
    if closed is not None:
        return closed
    await services.stores.consents.remember(
        host.account.id,
        current.user_id,
        client.id,
        auth_request.scopes,
        services.now(),
        await audit_trail.consent_given(services, request, host.account, current.user_id, client, auth_request.scopes),
    )
    return await answers.issue(services, request, host, auth_request, current, after_post=True)
