"""Answering an authorization request: RFC 6749 sections 4.1.2 (code), 4.1.2.1 (errors)
and 4.2.2 (implicit token), RFC 9207 (iss), OIDC Core section 3.1.2.5. The parameters of
every response, success or error, are built here; how they travel (query, fragment,
form_post) is response_modes.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tessera.protocol import issuance, secrets
from tessera.protocol.authorization import AuthorizationRequest
from tessera.protocol.authorization_trust import Reply
from tessera.protocol.errors import OAuthError
from tessera.protocol.lifetimes import Lifetimes
from tessera.protocol.ports import CodeStore, KeyRing, NewCode, TokenStore


@dataclass(frozen=True, slots=True)
class Authorized:
    """Who authorized, and when they signed in."""

    account_id: int
    user_id: int
    auth_time: float


async def respond(
    request: AuthorizationRequest,
    who: Authorized,
    *,
    issuer: str,
    now: float,
    code_lifetime: int,
    codes: CodeStore,
    tokens: TokenStore,
    keys: KeyRing,
) -> dict[str, str]:
    """Issue the code or the implicit token; return the response parameters."""
    if request.response_type == "code":
        code = secrets.new_token(secrets.CODE_PREFIX, now)
        await codes.create(
            NewCode(
                digest=secrets.digest(code),
                account_id=who.account_id,
                client_id=request.client.id,
                user_id=who.user_id,
                redirect_uri=request.reply.redirect_uri if request.redirect_uri_sent else "",
                scopes=request.scopes,
                code_challenge=request.code_challenge,
                nonce=request.nonce,
                family=secrets.new_family(),
                auth_time=who.auth_time,
                created_at=now,
                expires_at=now + code_lifetime,
                audience=request.audience,
                dpop_jkt=request.dpop_jkt or None,
            )
        )
        return code_params(code, request.reply, issuer)
    # Section 4.2.2: the implicit grant "MUST NOT issue a refresh token".
    minted = issuance.mint(
        account_id=who.account_id,
        client=request.client,
        user_id=who.user_id,
        scopes=request.scopes,
        family=secrets.new_family(),
        lifetimes=Lifetimes(access=request.client.access_token_lifetime, refresh=request.client.refresh_token_lifetime),
        now=now,
        with_refresh=False,
        jwt_key=await issuance.jwt_key_for(request.client, who.account_id, issuer, keys),
        audience=request.audience,
    )
    await tokens.issue(minted.rows)
    params = {key: str(value) for key, value in issuance.token_response(minted).items()}
    return with_state_and_iss(params, request.reply, issuer)


def with_state_and_iss(params: Mapping[str, str], reply: Reply, issuer: str) -> dict[str, str]:
    """Every authorization response, success or error, in query, fragment or form_post.

    RFC 6749 sections 4.1.2, 4.1.2.1 and 4.2.2: state is "REQUIRED if the "state" parameter
    was present in the client authorization request"; RFC 9207 section 2: the server "MUST
    add the iss parameter" to authorization responses, error responses included.
    """
    result = dict(params)
    if reply.state is not None:
        result["state"] = reply.state
    result["iss"] = issuer
    return result


def error_params(error: OAuthError, reply: Reply, issuer: str) -> dict[str, str]:
    """RFC 6749 section 4.1.2.1 error parameters."""
    return with_state_and_iss({"error": error.error, "error_description": error.description}, reply, issuer)


def code_params(code: str, reply: Reply, issuer: str) -> dict[str, str]:
    """RFC 6749 section 4.1.2."""
    return with_state_and_iss({"code": code}, reply, issuer)
