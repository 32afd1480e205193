"""Pushed authorization requests: RFC 9126 sections 2 (the PAR endpoint), 4 (the
authorization request with request_uri) and 7.3 (one-time use).

At the PAR endpoint the client authenticates as at the token endpoint, and its parameters
are checked by the authorization endpoint's own rules (protocol/authorization.py) as far
as they can be without a user; they are kept under a fresh request_uri for 60 seconds.

At the authorization endpoint a request_uri is claimed on its first use (one conditional
UPDATE). The request then has to survive the sign-in and consent round trips, which carry
it as parameters: instead of the pushed parameters (which a browser could alter), they
carry client_id, the request_uri and a flow secret minted by the claim, whose digest the
claim stored. Resuming needs that secret; the flow closes, once, when the response goes
back to the client. So a request_uri starts one flow, and one response comes of it; using
it again is refused with a page that says so.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tessera import paths
from tessera.model import Account, Client
from tessera.protocol import authorization, authorization_trust, client_assertion, client_auth, dpop, secrets
from tessera.protocol.authorization_trust import PageError, Reply
from tessera.protocol.errors import InvalidRequest, echo, refuse_repeated
from tessera.protocol.ports import ClientDocuments, ClientStore, PushedRequestStore, ResourceStore, UsedOnceStore

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
# RFC 9126 section 2.2: "a relatively short lifetime"; 60 seconds as the FAPI profiles
# say (expires_in at most 600 there) and node-oidc-provider does.
LIFETIME = 60
# How long a claimed request may take through sign-in and consent.
FLOW_LIFETIME = 1800
# The parameter that carries the flow secret through sign-in and consent.
FLOW = "par_flow"
# Client authentication is not part of the authorization request (RFC 9126 section 2.1).
_CLIENT_AUTHENTICATION = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


async def push(
    params: Mapping[str, str],
    repeated: frozenset[str],
    authorization_header: str | None,
    account: Account,
    issuer: str,
    now: float,
    *,
    clients: ClientStore,
    resources: ResourceStore,
    store: PushedRequestStore,
    documents: ClientDocuments | None = None,
    used_once: UsedOnceStore | None = None,
    dpop_check: dpop.ProofCheck | None = None,
) -> dict[str, Any]:
    """RFC 9126 sections 2.1 to 2.3: authenticate, validate, keep; the 201 body. A DPoP
    proof sent with the request (`dpop_check`) binds the code it leads to (RFC 9449
    section 10.1)."""
    refuse_repeated(repeated, "RFC 9126 section 2.1")
    # Section 2: "the same rules for client authentication as ... the token endpoint";
    # a private_key_jwt assertion may name this endpoint as its audience (RFC 7523 section 3).
    if "client_assertion" in params:
        dpop.nonce_before_assertion(dpop_check, now)
    client = await client_auth.authenticate_client(
        clients,
        account,
        authorization_header,
        params,
        now=now,
        documents=documents,
        assertions=client_assertion.at(used_once, issuer, paths.TOKEN, paths.PAR),
    )
    if "request_uri" in params:
        # RFC 9126 section 2.1: "The request_uri authorization request parameter is one
        # exception, and it MUST NOT be provided."
        raise InvalidRequest("request_uri may not be pushed (RFC 9126 section 2.1); push the request's parameters")
    pushed = {k: v for k, v in params.items() if k not in _CLIENT_AUTHENTICATION}
    pushed["client_id"] = client.identifier  # Basic authentication leaves it out of the body
    if dpop_check is not None:
        await _bind_to_proof(pushed, dpop_check, now)
    try:
        reply = authorization_trust.reply_to(pushed, frozenset(), client)
    except PageError as error:
        # RFC 9126 section 2.3: errors as RFC 6749 section 5.2; the redirect URI check is
        # the authorization endpoint's (section 2.1: "MUST validate the pushed request").
        raise InvalidRequest(error.message) from None
    request = authorization.parse(pushed, frozenset(), client, reply, pushed=True)
    await authorization.with_resources(request, account.id, issuer, resources)
    request_uri = REQUEST_URI_PREFIX + secrets.new_secret("")
    await store.push(account.id, client.id, secrets.digest(request_uri), json.dumps(pushed), now, now + LIFETIME)
    return {"request_uri": request_uri, "expires_in": LIFETIME}


async def _bind_to_proof(pushed: dict[str, str], proof: dpop.ProofCheck, now: float) -> None:
    """RFC 9449 section 10.1: a DPoP proof sent with the pushed request binds the code to
    its key, as dpop_jkt does; "If both mechanisms are used at the same time, the
    authorization server MUST reject the request if the JWK Thumbprint in dpop_jkt does not
    match the public key in the DPoP header"."""
    jkt = (await dpop.check(proof, now)).jkt
    named = pushed.get("dpop_jkt")
    if named and not hmac.compare_digest(named, jkt):
        raise InvalidRequest(
            "dpop_jkt names another key than the one that signed the DPoP proof sent with this request; "
            "send one of the two, or the thumbprint of the proof's key (RFC 9449 section 10.1)"
        )
    pushed["dpop_jkt"] = jkt


@dataclass(frozen=True, slots=True)
class Flow:
    """A claimed request_uri on its way through sign-in and consent."""

    request_uri_digest: bytes
    flow_digest: bytes
    # What the login redirect and the consent form carry instead of the pushed parameters.
    carried: dict[str, str]
    resumed: bool = False  # back from the login page, the chooser or the consent form
    claimed_at: float = 0.0  # when the request_uri was first used


@dataclass(frozen=True, slots=True)
class Pending:
    client: Client
    reply: Reply
    params: dict[str, str]  # the pushed parameters: what the request is
    flow: Flow


async def resolve(
    params: Mapping[str, str],
    repeated: frozenset[str],
    account: Account,
    now: float,
    *,
    clients: ClientStore,
    store: PushedRequestStore,
    documents: ClientDocuments | None = None,
) -> Pending:
    """RFC 9126 section 4: the request a request_uri stands for, claimed on first use or
    resumed with its flow secret; anything wrong is a PageError (no redirect URI is
    trusted until the pushed parameters are read). Parameters sent beside client_id and
    request_uri are ignored, as section 4 says."""
    if "request_uri" in repeated or FLOW in repeated:
        raise PageError("Invalid request", "The request_uri parameter was sent more than once.")
    client = await authorization_trust.trusted_client(clients, account, params, repeated, documents)
    request_uri = params["request_uri"]
    digest = secrets.digest(request_uri)
    flow_secret = params.get(FLOW, "")
    resumed = bool(flow_secret)
    if resumed:
        raw = await store.resume(account.id, client.id, digest, secrets.digest(flow_secret), now)
    else:
        flow_secret = secrets.new_secret("")
        raw = await store.claim(account.id, client.id, digest, secrets.digest(flow_secret), now, now + FLOW_LIFETIME)
    if raw is None:
        raise await _refusal(store, account, client, request_uri, digest, now, resumed)
    pushed: dict[str, str] = json.loads(raw)
    claimed_at = now
    if resumed:
        found = await store.find(account.id, digest)
        claimed_at = now if found is None or found.used_at is None else found.used_at
    carried = {"client_id": client.identifier, "request_uri": request_uri, FLOW: flow_secret}
    flow = Flow(digest, secrets.digest(flow_secret), carried, resumed, claimed_at)
    return Pending(client, authorization_trust.reply_to(pushed, frozenset(), client), pushed, flow)


def params_on_return(pending: Pending, auth_time: float | None) -> dict[str, str]:
    """The pushed parameters as they stand when the flow comes back (from the login page, the
    chooser or the consent form). Unlike a plain request's, they cannot be edited on the way,
    so a demand to sign in (prompt=login, max_age, id_token_hint) is dropped only when the
    session's sign-in (`auth_time`) happened since the request was claimed; otherwise it
    stands, and the login page shows again."""
    if not pending.flow.resumed:
        return pending.params
    signed_in = auth_time is not None and auth_time >= pending.flow.claimed_at
    return authorization.params_after_login(pending.params, signed_in=signed_in)


async def _refusal(
    store: PushedRequestStore,
    account: Account,
    client: Client,
    request_uri: str,
    digest: bytes,
    now: float,
    resumed: bool,
) -> PageError:
    """Why a request_uri cannot be used, in words the application's developer can act on."""
    title = "Invalid request_uri"
    again = "The application must push the authorization request again (RFC 9126) and send you here with the new one."
    found = await store.find(account.id, digest)
    if found is None:
        shown = echo(request_uri, 120)
        return PageError(title, f"The request_uri {shown} was not issued by this account's PAR endpoint. {again}")
    if found.client_id != client.id:
        return PageError(title, f"The request_uri was pushed by another client than {client.name!r}. {again}")
    if found.used_at is not None and (not resumed or found.completed_at is not None):
        return PageError(title, f"The request_uri was already used; each one is good for one authorization. {again}")
    if found.expires_at <= now:
        lifetime = f"{LIFETIME} seconds" if found.used_at is None else f"{FLOW_LIFETIME // 60} minutes"
        return PageError(title, f"The request_uri has expired (it is valid for {lifetime}). {again}")
    return PageError(title, f"This authorization was not started in this browser. {again}")


async def complete(store: PushedRequestStore, account_id: int, flow: Flow, now: float) -> None:
    """RFC 9126 section 7.3: one response per request_uri. Raises a PageError when the flow
    already answered (a form sent twice, or from two tabs)."""
    if not await store.complete(account_id, flow.request_uri_digest, flow.flow_digest, now):
        raise PageError(
            "Invalid request_uri",
            "This authorization request was already answered; the application must start again.",
        )
