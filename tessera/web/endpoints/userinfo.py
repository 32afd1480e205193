"""GET|POST /oauth/userinfo: OpenID Connect Core 1.0 section 5.3.

The access token comes in the Authorization header or, as section 5.3.1 allows, in a
form body (RFC 6750 section 2.2); never in the query string. The rules (lookup,
verification, `openid`) are in protocol/userinfo.py. Errors are RFC 6750 section 3
challenges, with the same JSON body as the token endpoint.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import bearer, dpop, userinfo
from tessera.protocol.errors import InvalidRequest, OAuthError
from tessera.web import dpop_proofs, responses, tenancy
from tessera.web import params as param_reader
from tessera.web.headers import header
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


async def _presented_token(request: Request) -> str | None:
    if "access_token" in request.query_params:
        raise bearer.refuse_token_outside_header("query string")
    authorization = header(request, b"authorization")
    if authorization is not None and authorization[:5].lower() == "dpop ":
        return dpop.token_from_header(authorization)
    from_header = bearer.from_header(authorization)
    if request.method != "POST" or (
        from_header is not None and param_reader.media_type(request) != "application/x-www-form-urlencoded"
    ):
        return from_header
    body = await param_reader.from_body(request, allow_json=False)
    if "access_token" in body.repeated:
        raise InvalidRequest("send access_token once")
    if from_header is not None and "access_token" in body.values:
        # RFC 6750 section 3.1: a request using more than one method is invalid_request.
        raise InvalidRequest("send the access token one way: in the Authorization header or in the form body, not both")
    return from_header if from_header is not None else body.get("access_token")


def _challenge(realm: str, error: OAuthError | None) -> Response:
    headers = {"WWW-Authenticate": responses.bearer_challenge(realm, error), **responses.NO_STORE}
    if error is None:
        body = {"error": "invalid_request", "error_description": "send the access token: Authorization: Bearer TOKEN"}
        return responses.json(body, 401, headers)
    responses.log_debug(error)
    return responses.json(error.as_dict(), error.status_code, headers)


def _dpop_check(services: Services, request: Request, host: AccountHost) -> dpop.ProofCheck | None:
    """RFC 9449 section 7.1: a DPoP-bound token comes as `Authorization: DPoP` with a proof."""
    authorization = header(request, b"authorization")
    if authorization is None or authorization[:5].lower() != "dpop ":
        return None
    return dpop_proofs.proof_check(services, request, host)


def _dpop_challenge(refused: dpop.DpopRefused) -> Response:
    """RFC 9449 section 7.1: WWW-Authenticate: DPoP, with the nonce when one is wanted."""
    responses.log_debug(refused.error)
    headers = {"WWW-Authenticate": dpop.challenge(refused.error), **responses.NO_STORE}
    if refused.nonce is not None:
        headers["DPoP-Nonce"] = refused.nonce
    return responses.json(refused.error.as_dict(), refused.status, headers)


async def userinfo_endpoint(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    realm = host.account.subdomain
    try:
        value = await _presented_token(request)
        if value is None:
            return _challenge(realm, None)
        body = await userinfo.respond(
            value,
            host.account.id,
            host.issuer,
            services.now(),
            tokens=services.stores.tokens,
            keys=services.keys,
            users=services.stores.users,
            dpop_check=_dpop_check(services, request, host),
        )
    except dpop.DpopRefused as refused:
        return _dpop_challenge(refused)
    except OAuthError as error:
        return _challenge(realm, error)
    return responses.json(body, 200, responses.NO_STORE)
