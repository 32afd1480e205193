"""The shape shared by the endpoints clients call with their credentials: token,
revocation, introspection, PAR and device authorization. Read the body once,
run the protocol step, and render RFC 6749 section 5.2 errors (401 with a Basic challenge
when Basic was used). Failed client authentication is counted against the throttles of
INTERFACE.md section 9.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import client_auth
from tessera.protocol.client_auth import ClientAuthenticationFailed
from tessera.protocol.errors import OAuthError, TooManyRequests
from tessera.web import audit_trail, dpop_proofs, responses, tenancy
from tessera.web import params as param_reader
from tessera.web.headers import header
from tessera.web.params import Params
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost

Step = Callable[[Params, AccountHost], Awaitable[Any]]
# A protocol function: fn(values, repeated, authorization, account, issuer, now, **stores).
ProtocolStep = Callable[..., Awaitable[Any]]


async def answer_with(
    services: Services,
    request: Request,
    protocol_step: ProtocolStep,
    render: Callable[[Any], Response],
    *,
    dpop_proof: bool = False,
    **stores: Any,
) -> Response:
    """`answer` for the endpoints whose protocol function takes what every client request
    carries, in one order: the body's parameters and the names repeated in it, the
    Authorization header, the account, its issuer and the time; then `stores` by keyword,
    and with `dpop_proof` the request's DPoP proof, if it sent one, as `dpop_check`."""

    async def step(params: Params, host: AccountHost) -> Any:
        authorization = header(request, b"authorization")
        extra = {"dpop_check": dpop_proofs.proof_check_if_sent(services, request, host)} if dpop_proof else {}
        return await protocol_step(
            params.values, params.repeated, authorization, host.account, host.issuer, services.now(), **stores, **extra
        )

    return await answer(services, request, step, render)


async def answer(services: Services, request: Request, step: Step, render: Callable[[Any], Response]) -> Response:
    host = await tenancy.account_host(request, services)
    try:
        params = await param_reader.from_body(request)
        refused = _known_refusal(services, request, params, host)
        if refused is not None:
            return responses.oauth_error(refused)
        result = await step(params, host)
    except ClientAuthenticationFailed as error:
        return await _failed(services, request, params, host, error)
    except OAuthError as error:
        return responses.oauth_error(error)
    return render(result)


def _client_id(request: Request, params: Params) -> str | None:
    try:
        return client_auth.parse(header(request, b"authorization"), params.values).client_id
    except OAuthError:
        return None


def _too_many(wait: int) -> TooManyRequests:
    return TooManyRequests(
        f"too many failed client authentications for this client or from this address; try again in {wait} seconds",
        retry_after=wait,
    )


def _known_refusal(services: Services, request: Request, params: Params, host: AccountHost) -> TooManyRequests | None:
    """A client or address this node knows to be waiting is refused before its secret is
    looked at; no I/O, so a successful authentication costs nothing more (throttling.py)."""
    throttles = services.throttles
    if not throttles.watching:
        return None
    address = audit_trail.client_address(request)
    wait = throttles.client_auth_refused(host.account.id, _client_id(request, params), address, services.now())
    return None if wait is None else _too_many(wait)


async def _failed(
    services: Services, request: Request, params: Params, host: AccountHost, error: ClientAuthenticationFailed
) -> Response:
    """Count the failure (INTERFACE.md section 9): 401 while under the limits, then 429."""
    address = audit_trail.client_address(request)
    wait = await services.throttles.client_auth_failed(
        host.account.id, _client_id(request, params), address, services.now()
    )
    if wait is not None:
        return responses.oauth_error(_too_many(wait))
    return responses.oauth_error(error, basic_challenge=error.used_basic)
