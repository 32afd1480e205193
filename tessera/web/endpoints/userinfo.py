"""GET|POST /oauth/userinfo: OpenID Connect Core 1.0 section 5.3.

The access token comes in the Authorization header or, as section 5.3.1 allows, in a
form body (RFC 6750 section 2.2); never in the query string. It must carry `openid`.
Errors are RFC 6750 section 3 challenges, with the same JSON body as the token endpoint.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tessera.protocol import bearer, token_lookup, userinfo
from tessera.protocol.errors import InvalidToken, OAuthError
from tessera.web import params as param_reader
from tessera.web import responses, tenancy
from tessera.web.headers import header
from tessera.web.services import Services


async def _presented_token(request: Request) -> str | None:
    if "access_token" in request.query_params:
        raise bearer.refuse_token_outside_header("query string")
    from_header = bearer.from_header(header(request, b"authorization"))
    if from_header is not None or request.method != "POST":
        return from_header
    body = await param_reader.from_body(request, allow_json=False)
    return body.get("access_token")


def _challenge(realm: str, error: OAuthError | None) -> Response:
    headers = {"WWW-Authenticate": responses.bearer_challenge(realm, error), **responses.NO_STORE}
    if error is None:
        body = {"error": "invalid_request", "error_description": "send the access token: Authorization: Bearer TOKEN"}
        return responses.json(body, 401, headers)
    return responses.json(error.as_dict(), error.status_code, headers)


async def userinfo_endpoint(services: Services, request: Request) -> Response:
    host = await tenancy.account_host(request, services)
    realm = host.account.subdomain
    try:
        value = await _presented_token(request)
        if value is None:
            return _challenge(realm, None)
        token = await token_lookup.access_token(
            services.stores.tokens, services.keys, host.account.id, host.issuer, value
        )
        token = bearer.verify(token, host.account.id, services.now())
        bearer.require_scope(token.scopes, "openid")
        user = await services.stores.users.get(host.account.id, token.user_id)
        if user is None:
            raise InvalidToken("the user this token acts for no longer exists")
        bearer.refuse_suspended(user)
    except OAuthError as error:
        return _challenge(realm, error)
    return responses.json(userinfo.claims(user, token.scopes), 200, responses.NO_STORE)
