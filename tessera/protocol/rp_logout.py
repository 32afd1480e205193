"""Where to send the browser after signing out: OpenID Connect RP-Initiated Logout 1.0
sections 2, 3 and 4, and Zendesk's `return_to` (INTERFACE.md section 4).

A destination is followed only when it is a registered redirect URI: of the client the
request names (by id_token_hint or client_id) for post_logout_redirect_uri, of any client
an admin registered on the account for return_to. Anything else yields None, and the
signed-out page shows, so logout is never an open redirect.

A client that registered itself (RFC 7591, or a client ID metadata document) chose its
redirect URIs without any admin looking at them; with open registration anyone can make
one, sign in to get an ID token for it, and so turn a logout link into a redirect to any
site (RFC 9700 section 4.11.2, the authorization server as open redirector). Its
post_logout_redirect_uri is therefore not followed: the signed-out page shows instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from tessera.model import Client
from tessera.protocol import id_token, redirect_uri
from tessera.protocol.ports import ClientStore, KeyRing


async def _named_client(
    params: Mapping[str, str], account_id: int, issuer: str, clients: ClientStore, keys: KeyRing
) -> Client | None:
    """The client the logout request names, or None when it names none or contradicts itself.

    Section 2: "When an id_token_hint parameter is present, the OP MUST validate that it was
    the issuer of the ID Token"; a client_id beside it must be the hint's audience.
    """
    client_id = params.get("client_id")
    hint = params.get("id_token_hint")
    if hint:
        hinted = id_token.audience_of_hint(hint, await keys.published(account_id), issuer)
        if hinted is None or (client_id is not None and client_id != hinted):
            return None
        client_id = hinted
    return await clients.find(account_id, client_id) if client_id else None


async def _post_logout(
    uri: str, params: Mapping[str, str], account_id: int, issuer: str, clients: ClientStore, keys: KeyRing
) -> str | None:
    # Section 3: "The OP MUST NOT perform post-logout redirection if the
    # post_logout_redirect_uri value supplied does not exactly match one of the previously
    # registered post_logout_redirect_uris values" (here: the client's redirect URIs).
    client = await _named_client(params, account_id, issuer, clients, keys)
    if client is None or client.is_self_registered:
        return None
    if not any(redirect_uri.matches(uri, registered) for registered in client.redirect_uris):
        return None
    state = params.get("state")
    # Section 3: state is passed "as a query parameter" to the post-logout redirect URI.
    return uri if state is None else redirect_uri.with_query(uri, {"state": state})


async def destination(
    params: Mapping[str, str], account_id: int, issuer: str, *, clients: ClientStore, keys: KeyRing
) -> str | None:
    """The URI to redirect to after logout, or None for the signed-out page."""
    post_logout = params.get("post_logout_redirect_uri")
    if post_logout is not None:
        return await _post_logout(post_logout, params, account_id, issuer, clients, keys)
    return_to = params.get("return_to")
    if return_to and await clients.redirect_uri_registered(account_id, return_to):
        return return_to
    return None
