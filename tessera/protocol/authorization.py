"""The authorization endpoint's rules: RFC 6749 sections 3.1, 4.1.1, 4.1.2.1, 4.2.1; RFC 7636
section 4.3; RFC 9207; OIDC Core sections 3.1.2.1 and 3.1.2.6.

Checks run in this order, and the order decides how an error is answered:

| step | check                                   | error answered as                    |
|------|-----------------------------------------|--------------------------------------|
| 1    | client_id present, single, known        | page (PageError), never a redirect   |
| 2    | redirect_uri registered for the client  | page (PageError), never a redirect   |
| 3    | response_mode, response_type, grant     | redirect to the client (OAuthError)  |
| 4    | scope, PKCE, prompt, max_age, repeats   | redirect to the client (OAuthError)  |
| 5    | resource (RFC 8707), known to the account | redirect to the client (OAuthError)  |

With a request_uri (RFC 9126 section 4), step 1 finds the client, then the pushed
parameters replace the request's (protocol/pushed_authorization.py): a request_uri that is
unknown, expired, used or another client's is a page, since no redirect URI is trusted yet.

RFC 6749 section 4.1.2.1: if the redirect URI is missing, invalid or mismatching, or the
client identifier is missing or invalid, the server "MUST NOT automatically redirect the
user-agent to the invalid redirection URI". Everything after step 2 goes back to the client.
Steps 1 and 2 are authorization_trust.py's; steps 3 to 5 and what follows them, this module's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from tessera.model import Client
from tessera.protocol import pkce, resource_indicators
from tessera.protocol import scopes as scope_rules
from tessera.protocol.authorization_trust import RESPONSE_MODES, Reply
from tessera.protocol.errors import (
    ConsentRequired,
    InvalidRequest,
    LoginRequired,
    RequestNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
    echo,
    refuse_repeated,
)
from tessera.protocol.numbers import whole_number
from tessera.protocol.ports import ResourceStore

# response_type -> the grant type a client must be allowed.
RESPONSE_TYPES = {"code": "authorization_code", "token": "implicit"}
PROMPTS = ("none", "login", "consent", "select_account")
# RFC 7638 with SHA-256, base64url without padding: 43 characters.
_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")

# Steps after validation.
LOGIN = "login"
SELECT_ACCOUNT = "select_account"
CONSENT = "consent"
ISSUE = "issue"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client: Client
    reply: Reply
    response_type: str
    redirect_uri_sent: bool
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str
    prompt: frozenset[str]
    max_age: int | None
    login_hint: str
    # RFC 8707: the resources asked for (step 4), then those the token will be for (step 5;
    # empty: the account's API).
    resources: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    # RFC 9449 section 10: the DPoP key (JWK thumbprint) the code is to be bound to; "": none.
    dpop_jkt: str = ""
    # OIDC Core 3.1.2.1: the subject of a verified id_token_hint, the user the client expects.
    hinted_subject: str | None = None


@dataclass(frozen=True, slots=True)
class SignedIn:
    user_id: int
    auth_time: float


def _response_type(params: Mapping[str, str], client: Client) -> str:
    response_type = params.get("response_type", "")
    if not response_type:
        raise InvalidRequest("response_type is required: use code (or token for the implicit grant)")
    grant = RESPONSE_TYPES.get(response_type)
    if grant is None:
        raise UnsupportedResponseType(
            f"response_type {echo(response_type)} is not supported; use code (or token for the implicit grant)"
        )
    if grant not in client.grant_types:
        raise UnauthorizedClient(
            f"the client {client.name!r} may not use response_type={response_type}; "
            f"its administrator must enable the {grant} grant for it"
        )
    if response_type == "token" and client.require_dpop:
        # RFC 9449 has no proof for the authorization endpoint: the implicit grant's tokens
        # would be bearer tokens, which a client required to use DPoP must never get.
        raise UnauthorizedClient(
            f"the client {client.name!r} requires DPoP-bound tokens (dpop_bound_access_tokens), which the "
            "implicit grant cannot issue; use response_type=code and send a DPoP proof to the token endpoint"
        )
    return response_type


def _response_mode(params: Mapping[str, str], response_type: str) -> None:
    mode = params.get("response_mode")
    if mode is None:
        return
    if mode not in RESPONSE_MODES:
        raise InvalidRequest(f"response_mode {echo(mode)} is not supported; use query, fragment or form_post")
    if response_type == "token" and mode == "query":
        raise InvalidRequest("response_mode=query cannot carry an access token; use fragment or form_post")


def _prompt(params: Mapping[str, str]) -> frozenset[str]:
    values = frozenset(params.get("prompt", "").split())
    unknown = values - set(PROMPTS)
    if unknown:
        raise InvalidRequest(
            f"prompt {echo(' '.join(sorted(unknown)))} is not supported; use none, login, consent or select_account"
        )
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other prompt values (OIDC Core 3.1.2.1)")
    return values


def _dpop_jkt(params: Mapping[str, str], response_type: str) -> str:
    """RFC 9449 section 10: dpop_jkt, "the JWK SHA-256 Thumbprint confirmation method value"
    of the key the client will prove at the token endpoint; it binds the code to that key."""
    jkt = params.get("dpop_jkt", "")
    if not jkt:
        return ""
    if response_type != "code":
        raise InvalidRequest(
            "dpop_jkt binds an authorization code to a DPoP key (RFC 9449 section 10): use response_type=code"
        )
    if not _THUMBPRINT.fullmatch(jkt):
        raise InvalidRequest(
            f"dpop_jkt {echo(jkt)} is not a JWK SHA-256 thumbprint: send the base64url (43 characters, no padding) "
            "RFC 7638 thumbprint of the DPoP public key (RFC 9449 section 10)"
        )
    return jkt


def _max_age(params: Mapping[str, str]) -> int | None:
    raw = params.get("max_age")
    if raw is None or raw == "":
        return None
    seconds = whole_number(raw, 10)
    if seconds is None:
        raise InvalidRequest(f"max_age must be a whole number of seconds of at most 10 digits, not {echo(raw)}")
    return seconds


def parse(
    params: Mapping[str, str], repeated: frozenset[str], client: Client, reply: Reply, *, pushed: bool = False
) -> AuthorizationRequest:
    """Steps 3 and 4; any OAuthError raised here is redirected to `reply`.

    `pushed`: the parameters came through the PAR endpoint (RFC 9126), the push itself or
    the request_uri it answered; a client that requires PAR is refused anything else.
    """
    refuse_repeated(repeated, "RFC 6749 section 3.1")
    if client.require_par and not pushed:
        # RFC 9126 section 6: with require_pushed_authorization_requests, the server "MUST
        # only accept authorization requests via the pushed authorization request endpoint".
        raise InvalidRequest(
            f"the client {client.name!r} must push its authorization requests (RFC 9126): POST them to "
            "the pushed_authorization_request_endpoint, then send only client_id and the request_uri it answers"
        )
    # OIDC Core 6.1: an OP that does not support them "MUST return" this error, rather
    # than ignore parameters the client may have signed. (request_uri is resolved before
    # parse, by protocol/pushed_authorization.py; a pushed request cannot hold one.)
    if "request" in params:
        raise RequestNotSupported("request objects (the request parameter) are not supported; send plain parameters")
    response_type = _response_type(params, client)
    _response_mode(params, response_type)
    scopes = scope_rules.resolve(params.get("scope"), client.allowed_scopes)
    challenge = ""
    if response_type == "code":
        # PKCE is required of public clients (RFC 9700 section 2.1.1) and of every client
        # that registered itself, confidential or not: no admin vouched for how it keeps
        # its secret (docs/registration.md).
        challenge = pkce.parse_challenge(
            params.get("code_challenge"),
            params.get("code_challenge_method"),
            required=client.is_public or client.is_self_registered,
        )
    return AuthorizationRequest(
        client=client,
        reply=reply,
        response_type=response_type,
        redirect_uri_sent="redirect_uri" in params,
        scopes=scopes,
        code_challenge=challenge,
        nonce=params.get("nonce", ""),
        prompt=_prompt(params),
        max_age=_max_age(params),
        login_hint=params.get("login_hint", ""),
        resources=resource_indicators.requested(params),
        dpop_jkt=_dpop_jkt(params, response_type),
    )


async def with_resources(
    request: AuthorizationRequest, account_id: int, issuer: str, resources: ResourceStore
) -> AuthorizationRequest:
    """Step 5, RFC 8707 section 2.1: each `resource` must be a resource of the account
    (invalid_target, redirected); the scopes are those the resources allow. Without
    `resource`, the request is unchanged and nothing is looked up."""
    if not request.resources:
        return request
    target = await resource_indicators.resolve(request.resources, account_id, issuer, resources)
    scopes = resource_indicators.limit_scopes(request.scopes, target)
    return dataclasses.replace(request, audience=target.audience, scopes=scopes)


def with_hint(request: AuthorizationRequest, claims: Mapping[str, object] | None) -> AuthorizationRequest:
    """OIDC Core 3.1.2.1: `claims` of the request's id_token_hint as verified by the caller
    (id_token.hint_claims; None: not an ID token of this issuer, refused)."""
    subject = None if claims is None else claims.get("sub")
    if not isinstance(subject, str):
        raise InvalidRequest(
            "id_token_hint is not an ID token this account issued: send one Tessera issued for this account, "
            "or leave id_token_hint out"
        )
    return dataclasses.replace(request, hinted_subject=subject)


def next_step(
    request: AuthorizationRequest, signed_in: SignedIn | None, granted: tuple[str, ...] | None, now: float
) -> str:
    """What happens next: the login page, the consent page, or the response (OIDC Core 3.1.2.3-3.1.2.4)."""
    stale = signed_in is not None and request.max_age is not None and now - signed_in.auth_time > request.max_age
    # OIDC Core 3.1.2.1, id_token_hint: a positive answer only if the user it identifies is
    # the one signed in (or signs in now); "otherwise, it SHOULD return an error, such as
    # login_required".
    other_user = (
        signed_in is not None
        and request.hinted_subject is not None
        and request.hinted_subject != str(signed_in.user_id)
    )
    if signed_in is None or "login" in request.prompt or stale or other_user:
        if "none" in request.prompt:
            if other_user:
                raise LoginRequired(
                    "the user signed in is not the one id_token_hint names, and prompt=none forbids showing the login page"
                )
            if stale:
                raise LoginRequired(
                    f"the user signed in more than max_age ({request.max_age}) seconds ago, "
                    "and prompt=none forbids showing the login page"
                )
            raise LoginRequired("nobody is signed in on this account, and prompt=none forbids showing the login page")
        return LOGIN
    if "select_account" in request.prompt:
        return SELECT_ACCOUNT
    if granted is not None and "consent" not in request.prompt and scope_rules.covers(granted, request.scopes):
        return ISSUE
    if "none" in request.prompt:
        raise ConsentRequired(
            "the user has not yet allowed this client these scopes, and prompt=none forbids showing the consent page"
        )
    return CONSENT


def params_after_login(params: Mapping[str, str], *, signed_in: bool = True) -> dict[str, str]:
    """The request to come back to from the login page: without the demand to sign in again.

    Dropping `login`/`select_account` from prompt and `max_age` is what keeps the login
    page from looping; the sign-in just happened, and auth_time records when. The hint
    asked for a sign-in too; whoever signed in is now the answer (no second round).
    `signed_in=False` (a pushed request resumed with no sign-in since it was claimed): only
    select_account is answered, by the visit to the chooser; a demand to sign in stands.
    """
    answered = ("login", "select_account") if signed_in else ("select_account",)
    dropped = ("max_age", "id_token_hint") if signed_in else ()
    again = {k: v for k, v in params.items() if k not in dropped}
    if "prompt" in again:
        rest = [p for p in again["prompt"].split() if p not in answered]
        if rest:
            again["prompt"] = " ".join(rest)
        else:
            del again["prompt"]
    return again
