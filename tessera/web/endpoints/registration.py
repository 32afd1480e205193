"""POST /oauth/register (RFC 7591 section 3) and GET|PUT|DELETE /oauth/register/CLIENT_ID
(RFC 7592 section 2); the rules are in management/registration.py.

Under the account policy `off` both answer 404 and discovery does not name them. Open
registrations are counted per source address before anything is looked at, and a wrong
initial or registration access token counts like a failed client authentication (the
throttles of INTERFACE.md section 9), so neither can be guessed or flooded. Bodies are
JSON (RFC 7591 section 3.1); answers are JSON with Cache-Control: no-store, since they
carry secrets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tessera.management import registration
from tessera.protocol import bearer
from tessera.protocol.errors import InvalidRequest, InvalidToken, OAuthError, TooManyRequests
from tessera.web import audit_trail, params, responses, tenancy
from tessera.web.headers import header
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

Step = Callable[[AccountHost, str | None], Awaitable[Response]]


def _not_found() -> Response:
    body = {
        "error": "not_found",
        "error_description": "dynamic client registration is off on this account; ask its admin for a client",
    }
    return responses.json(body, 404, responses.NO_STORE)


def _unauthorized(realm: str, error: InvalidToken, sent_credentials: bool) -> Response:
    """RFC 6750 section 3 (RFC 7591 section 3, RFC 7592 section 2): 401 invalid_token; the
    challenge of a request that sent no credentials carries no error code (section 3.1:
    it "SHOULD NOT include an error code"), the body still says what to send."""
    responses.log_debug(error)
    challenge = responses.bearer_challenge(realm, error if sent_credentials else None)
    headers = {"WWW-Authenticate": challenge, **responses.NO_STORE}
    return responses.json(error.as_dict(), 401, headers)


def _too_many(wait: int, what: str) -> Response:
    return responses.oauth_error(
        TooManyRequests(f"too many {what} from this address; try again in {wait} seconds", retry_after=wait)
    )


async def _json_body(request: Request) -> Any:
    """RFC 7591 section 3.1: "the client sends ... the client metadata ... as JSON"."""
    body = await params.read_body(request)
    media_type = (header(request, b"content-type") or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise InvalidRequest(f"send the client metadata as application/json, not {media_type[:60] or '(none)'!r}")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(params.json_problem(error)) from None


def _presented(request: Request, host: AccountHost, open_ignores_header: bool) -> str | None:
    """The bearer token sent, if any. Open registration needs none, so there an
    Authorization header that is not a bearer token is ignored rather than refused."""
    try:
        return bearer.from_header(header(request, b"authorization"))
    except InvalidToken:
        if open_ignores_header and host.account.registration_policy == registration.OPEN:
            return None
        raise


async def _answer(services: Services, request: Request, step: Step, *, open_ignores_header: bool = False) -> Response:
    """The shape every registration request shares: the policy, the bearer token, the
    step, and the errors rendered as RFC 7591 section 3.2.2 and RFC 6750 section 3 say."""
    host = await tenancy.account_host(request, services)
    if host.account.registration_policy == registration.OFF:
        return _not_found()
    address = audit_trail.client_address(request)
    # An address this node knows to be waiting is refused before any token is looked at,
    # so that the throttle is no oracle for a right one (throttling.py).
    known = services.throttles.client_auth_refused(host.account.id, None, address, services.now())
    if known is not None and header(request, b"authorization"):
        return _too_many(known, "wrong tokens")
    try:
        try:
            presented = _presented(request, host, open_ignores_header)
            return await step(host, presented)
        except InvalidToken as error:
            wait = await services.throttles.client_auth_failed(host.account.id, None, address, services.now())
            if wait is not None:
                return _too_many(wait, "wrong tokens")
            return _unauthorized(host.account.subdomain, error, header(request, b"authorization") is not None)
    except registration.RegistrationOff:
        return _not_found()
    except OAuthError as error:
        return responses.oauth_error(error)


async def register(services: Services, request: Request) -> Response:
    """RFC 7591 section 3: 201 with the client's registration."""

    async def step(host: AccountHost, presented: str | None) -> Response:
        now = services.now()
        address = audit_trail.client_address(request)
        if host.account.registration_policy == registration.OPEN:
            wait = await services.throttles.registration_attempt(host.account.id, address, now)
            if wait is not None:
                return _too_many(wait, "registrations")
        admitted = await registration.admit(services.stores, host.account, presented, now)
        body = await _json_body(request)
        registered = await registration.register(
            services.stores, host.account, body, admitted, host.issuer, now, address
        )
        return responses.json(registered, 201, responses.NO_STORE)

    return await _answer(services, request, step, open_ignores_header=True)


async def _managed(
    services: Services, request: Request, host: AccountHost, presented: str | None
) -> registration.Managed:
    identifier = str(request.path_params.get("client_id", ""))
    return await registration.authenticate(services.stores, host.account, identifier, presented)


async def read(services: Services, request: Request) -> Response:
    """RFC 7592 section 2.1: 200 with the registration as it is."""

    async def step(host: AccountHost, presented: str | None) -> Response:
        managed = await _managed(services, request, host, presented)
        return responses.json(registration.read(managed, host.issuer), 200, responses.NO_STORE)

    return await _answer(services, request, step)


async def replace(services: Services, request: Request) -> Response:
    """RFC 7592 section 2.2: 200 with the new registration and registration access token."""

    async def step(host: AccountHost, presented: str | None) -> Response:
        managed = await _managed(services, request, host, presented)
        body = await _json_body(request)
        replaced = await registration.replace(
            services.stores,
            host.account,
            managed,
            body,
            host.issuer,
            services.now(),
            audit_trail.client_address(request),
        )
        return responses.json(replaced, 200, responses.NO_STORE)

    return await _answer(services, request, step)


async def delete(services: Services, request: Request) -> Response:
    """RFC 7592 section 2.3: 204; the client's tokens, codes and consents go with it."""

    async def step(host: AccountHost, presented: str | None) -> Response:
        managed = await _managed(services, request, host, presented)
        await registration.delete(
            services.stores, host.account, managed, services.now(), audit_trail.client_address(request)
        )
        return Response(status_code=204, headers=responses.NO_STORE)

    return await _answer(services, request, step)
