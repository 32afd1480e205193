"""Who is calling the API: RFC 6750 bearer tokens, RFC 9449 DPoP-bound tokens with their
proofs, or a browser session with CSRF token.

`endpoint(handler, scope=...)` wraps an API handler: it resolves the account, authenticates
the caller, checks the scope, and turns refusals into RFC 6750 responses. A token in the
query string or a form body is refused with invalid_request (RFC 6750 sections 2.2, 2.3
permit them; Tessera does not, since they leak into logs). A session may call the API
too; then a method that changes state needs the X-CSRF-Token header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.model import AccessToken, User
from tessera.protocol import bearer, dpop, resource_metadata, token_lookup
from tessera.protocol.errors import InvalidRequest, InvalidToken, OAuthError
from tessera.web import dpop_proofs, params, responses, sessions, tenancy
from tessera.web.headers import RepeatedHeader, header, lone_header
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# used_at is kept to the minute: recording every use would turn every API call into a write.
USED_AT_RESOLUTION = 60
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    token: AccessToken | None  # None when the caller is a browser session
    session: sessions.CurrentSession | None


class Unauthenticated(Exception):
    pass


class CsrfRefused(Exception):
    pass


Handler = Callable[[Services, Request, AccountHost, Caller], Awaitable[Response]]


async def _token_outside_header(request: Request) -> str | None:
    """Where a token was sent other than the Authorization header, if it was."""
    if request.scope.get("query_string") and "access_token" in request.query_params:
        return "query string"
    if request.method in SAFE_METHODS:
        return None
    if (header(request, b"content-type") or "").lower().startswith("application/x-www-form-urlencoded"):
        body = await params.read_body(request)
        try:
            fields = parse_qsl(body.decode("utf-8", "replace"), max_num_fields=params.MAX_FIELDS)
        except ValueError as error:  # more fields than any request may carry: refused as params refuses it
            raise InvalidRequest(f"the parameters could not be read: {error}") from None
        if any(name == "access_token" for name, _ in fields):
            return "form body"
    return None


async def _by_token(services: Services, host: AccountHost, token_value: str, scope: str) -> Caller:
    token = await token_lookup.access_token(
        services.stores.tokens, services.keys, host.account.id, host.issuer, token_value
    )
    now = services.now()
    token = bearer.verify(token, host.account.id, now)
    if token.jkt is not None:  # the jkt came with the lookup: a bearer call costs nothing more
        raise dpop.DpopRefused(dpop.bound_token_as_bearer())
    return await _accepted(services, host, token, scope, now)


async def _by_dpop(services: Services, request: Request, host: AccountHost, authorization: str, scope: str) -> Caller:
    """RFC 9449 section 7.1: `Authorization: DPoP TOKEN` with a proof for this method and URL,
    carrying the token's hash (ath), signed by the key the token is bound to."""
    try:
        token_value = dpop.token_from_header(authorization)
        token = await token_lookup.access_token(
            services.stores.tokens, services.keys, host.account.id, host.issuer, token_value
        )
        now = services.now()
        token = bearer.verify(token, host.account.id, now)
        check = dpop_proofs.proof_check(services, request, host)
        proof = await dpop.verify_for_token(check, token, token_value, now)
        await dpop.claim(check.used_once, proof, now)
        return await _accepted(services, host, token, scope, now)
    except OAuthError as error:
        raise dpop.DpopRefused(error) from None


async def _accepted(services: Services, host: AccountHost, token: AccessToken, scope: str, now: float) -> Caller:
    bearer.require_audience(token, host.issuer)
    bearer.require_scope(token.scopes, scope)
    if token.used_at is None or now - token.used_at >= USED_AT_RESOLUTION:
        await services.stores.tokens.touch(token.id, now)
    user = await services.stores.users.get(host.account.id, token.user_id)
    if user is None:
        raise InvalidToken("the user this token acts for no longer exists")
    bearer.refuse_suspended(user)
    return Caller(user=user, token=token, session=None)


async def _by_session(services: Services, request: Request, host: AccountHost) -> Caller:
    current = await sessions.current(request, services, host.account)
    if current is None:
        raise Unauthenticated()
    if request.method not in SAFE_METHODS and not sessions.valid_authenticity_token(
        services, current, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfRefused()
    user = await services.stores.users.get(host.account.id, current.user_id)
    if user is None or user.is_suspended:
        raise Unauthenticated()
    return Caller(user=user, token=None, session=current)


async def authenticate(services: Services, request: Request, host: AccountHost, scope: str) -> Caller:
    where = await _token_outside_header(request)
    if where is not None:
        raise bearer.refuse_token_outside_header(where)
    try:
        authorization = lone_header(request, b"authorization")
    except RepeatedHeader:
        # RFC 6750 section 3.1: a request that uses more than one method is invalid_request.
        raise InvalidRequest("send one Authorization header: this request sent several") from None
    if authorization is not None and authorization[:5].lower() == "dpop ":
        return await _by_dpop(services, request, host, authorization, scope)
    token_value = bearer.from_header(authorization)
    if token_value is not None:
        return await _by_token(services, host, token_value, scope)
    return await _by_session(services, request, host)


def endpoint(
    handler: Handler, *, scope: str, administration: bool = False
) -> Callable[[Services, Request], Awaitable[Response]]:
    """`administration`: an endpoint of INTERFACE.md section 6, whose every 403 is
    {"error": "Forbidden"} saying what is missing (a scope, the CSRF header); the challenge
    of a missing scope still says insufficient_scope (RFC 6750 section 3.1)."""
    forbidden = "Forbidden" if administration else None

    async def run(services: Services, request: Request) -> Response:
        host = await tenancy.account_host(request, services)
        realm = host.account.subdomain
        # RFC 9728 section 5.1: where a client learns how to get a token for this API.
        metadata = resource_metadata.url(host.issuer)
        try:
            caller = await authenticate(services, request, host, scope)
        except Unauthenticated:
            return responses.api_unauthenticated(realm, metadata, scope)
        except CsrfRefused:
            return responses.problem(
                403,
                forbidden or "invalid_csrf_token",
                f"a signed-in browser must send the {CSRF_HEADER} header with the "
                f"authenticity_token from GET {paths.API_USERS_ME} for this method",
            )
        except OAuthError as error:
            refused_here = forbidden if error.status_code == 403 else None
            return responses.api_error(realm, error, metadata, body_error=refused_here)
        except dpop.DpopRefused as refused:
            refused_here = forbidden if refused.status == 403 else None
            return responses.api_dpop_error(refused, metadata, body_error=refused_here)
        try:
            return await handler(services, request, host, caller)
        except InvalidRequest as error:  # a body the handler would not read (params.read_body)
            return responses.problem(400, error.error, error.description)

    return run
