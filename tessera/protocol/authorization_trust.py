"""Steps 1 and 2 of an authorization request (protocol/authorization.py has the whole order):
which client is asking, and where its response may go. Until both have passed no redirect
URI is trusted, so every refusal here is a page (PageError), never a redirect: RFC 6749
section 4.1.2.1, the server "MUST NOT automatically redirect the user-agent to the invalid
redirection URI". The token endpoint finds clients the same way (client_auth.find_client).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tessera.model import Account, Client
from tessera.protocol import client_auth, redirect_uri
from tessera.protocol.client_metadata_document import DocumentProblem
from tessera.protocol.errors import echo
from tessera.protocol.ports import ClientDocuments, ClientStore

RESPONSE_MODES = ("query", "fragment", "form_post")


class PageError(Exception):
    """An error shown on Tessera's own page: the client or its redirect URI is not trusted yet."""

    def __init__(self, title: str, message: str, registered: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.registered = registered


@dataclass(frozen=True, slots=True)
class Reply:
    """Where and how the response goes: known once step 2 has passed."""

    redirect_uri: str
    response_mode: str
    state: str | None


def client_id_of(params: Mapping[str, str], repeated: frozenset[str]) -> str:
    """Step 1a: the client_id parameter, present and single."""
    if "client_id" in repeated:
        raise PageError("Invalid request", "The client_id parameter was sent more than once.")
    client_id = params.get("client_id", "")
    if not client_id:
        raise PageError(
            "Invalid request",
            "The request has no client_id. The application that sent you here must name itself "
            "with the client_id parameter (its OAuth client identifier).",
        )
    return client_id


def unknown_client(client_id: str, numeric_match: Client | None) -> PageError:
    """Step 1b failed: name the fix when a numeric id was sent instead of the identifier."""
    if numeric_match is not None:
        return PageError(
            "Unknown client",
            f"client_id {client_id} is the numeric id of the client {numeric_match.name!r}. "
            f"Send its identifier, {numeric_match.identifier!r}, as client_id instead.",
        )
    return PageError(
        "Unknown client",
        f"No OAuth client with the identifier {echo(client_id)} is registered on this account. "
        "Check the client_id the application sends.",
    )


def _carries_tokens(response_type: str | None) -> bool:
    return bool({"token", "id_token"}.intersection((response_type or "").split()))


def _default_mode(response_type: str | None) -> str:
    # OAuth 2.0 Multiple Response Type Encoding Practices, section 5: code defaults to
    # query; any response type with token or id_token to fragment (OIDC Core 3.2.2.5 and
    # 3.3.2.5 for its errors too), whether Tessera offers that response type or not.
    return "fragment" if _carries_tokens(response_type) else "query"


def reply_to(params: Mapping[str, str], repeated: frozenset[str], client: Client) -> Reply:
    """Step 2: the registered redirect URI this response will go to."""
    if "redirect_uri" in repeated:
        raise PageError(
            "Invalid redirect URI", "The redirect_uri parameter was sent more than once.", client.redirect_uris
        )
    sent = params.get("redirect_uri")
    resolved = redirect_uri.resolve(sent, client.redirect_uris)
    if resolved is None:
        if not client.redirect_uris:
            raise PageError(
                "Invalid redirect URI",
                f"The client {client.name!r} has no redirect URI registered. An administrator must add one.",
            )
        if sent is None:
            message = (
                f"The request has no redirect_uri, and the client {client.name!r} has several "
                "registered, so it must say which one to use."
            )
        else:
            message = (
                f"The redirect_uri {echo(sent, 200)} is not registered for the client {client.name!r}. "
                "It must match one of the registered URIs exactly."
            )
        raise PageError("Invalid redirect URI", message, client.redirect_uris)
    mode = params.get("response_mode") or _default_mode(params.get("response_type"))
    # Section 5 again: tokens never go in the query, so neither does the error of a
    # request that asked for them there (it is refused: see authorization.py).
    if mode not in RESPONSE_MODES or (mode == "query" and _carries_tokens(params.get("response_type"))):
        mode = _default_mode(params.get("response_type"))
    return Reply(redirect_uri=resolved, response_mode=mode, state=params.get("state"))


def invalid_document(client_id: str, problem: DocumentProblem) -> PageError:
    """Step 1b failed on a client ID metadata document: a page, never a redirect, since the
    redirect URIs are the document's (draft-ietf-oauth-client-id-metadata-document-00
    section 4.3: if fetching it fails, the server "SHOULD abort the authorization request")."""
    return PageError(
        "Invalid client metadata document",
        f"The client_id {echo(client_id, 255)} is the address of a client metadata document, "
        f"which Tessera cannot use: {problem.message}. The application's developer must fix it.",
    )


async def trusted(
    clients: ClientStore,
    account: Account,
    params: Mapping[str, str],
    repeated: frozenset[str],
    documents: ClientDocuments | None = None,
) -> tuple[Client, Reply]:
    """Steps 1 and 2: the client (found as the token endpoint finds it) and its redirect URI,
    or a PageError."""
    client = await trusted_client(clients, account, params, repeated, documents)
    return client, reply_to(params, repeated, client)


async def trusted_client(
    clients: ClientStore,
    account: Account,
    params: Mapping[str, str],
    repeated: frozenset[str],
    documents: ClientDocuments | None = None,
) -> Client:
    """Step 1: the client named by client_id, or a PageError."""
    client_id = client_id_of(params, repeated)
    try:
        return await client_auth.find_client(clients, account, client_id, unknown_client, documents)
    except DocumentProblem as problem:
        raise invalid_document(client_id, problem) from None
