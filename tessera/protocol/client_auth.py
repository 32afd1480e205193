"""Client authentication: RFC 6749 sections 2.3.1 and 3.2.1.

Three methods: client_secret_basic (HTTP Basic, each part form-urlencoded before base64,
section 2.3.1), client_secret_post (client_id and client_secret in the body), and none
(a public client sends only client_id); and private_key_jwt (RFC 7523 section 2.2, rules
in client_assertion.py) for a client that registered a public key set: such a client
authenticates only that way (its point is that no shared secret works for it). Parsing is separated from checking so that the
web layer knows whether to answer with a Basic challenge.

Finding the client named by client_id (find_client) is shared with the authorization
endpoint, which answers an unknown client with its own page instead of invalid_client.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from tessera.model import Account, Client
from tessera.protocol import client_assertion, client_metadata_document, secrets
from tessera.protocol.client_assertion import AssertionCheck
from tessera.protocol.client_metadata_document import DocumentProblem
from tessera.protocol.errors import InvalidClient, InvalidRequest, echo
from tessera.protocol.numbers import whole_number
from tessera.protocol.ports import ClientDocuments, ClientStore

BASIC = "client_secret_basic"
POST = "client_secret_post"
NONE = "none"
PRIVATE_KEY_JWT = client_assertion.METHOD
METHODS = (BASIC, POST, NONE, PRIVATE_KEY_JWT)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    secret: str | None
    method: str
    assertion: str | None = None  # private_key_jwt: the signed JWT

    @property
    def used_basic(self) -> bool:
        return self.method == BASIC


class ClientAuthenticationFailed(InvalidClient):
    """invalid_client that remembers whether the caller used Basic (RFC 6749 section 5.2)."""

    def __init__(self, description: str, *, used_basic: bool) -> None:
        super().__init__(description)
        self.used_basic = used_basic


def _decode_basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ClientAuthenticationFailed(
            "the Authorization header is not valid Basic credentials: "
            "send base64(urlencode(client_id) ':' urlencode(client_secret))",
            used_basic=True,
        ) from None
    if ":" not in decoded:
        raise ClientAuthenticationFailed("Basic credentials must be client_id:client_secret", used_basic=True)
    client_id, secret = (unquote_plus(part) for part in decoded.split(":", 1))
    if "\x00" in client_id or "\x00" in secret:
        raise ClientAuthenticationFailed("Basic credentials may not contain NUL characters", used_basic=True)
    return client_id, secret


def _assertion(authorization: str | None, body: Mapping[str, str]) -> ClientCredentials:
    """RFC 7521 section 4.2: client_assertion_type and client_assertion; client_id, if
    sent, "MUST identify the same client as is identified by the client assertion"."""
    if (authorization and authorization.partition(" ")[0].lower() == "basic") or body.get("client_secret"):
        raise InvalidRequest(
            "a client_assertion was sent together with a client secret; use one authentication method only "
            "(RFC 6749 section 2.3)"
        )
    if body.get("client_assertion_type") != client_assertion.ASSERTION_TYPE:
        raise ClientAuthenticationFailed(
            f"client_assertion_type must be {client_assertion.ASSERTION_TYPE} (RFC 7523 section 2.2)", used_basic=False
        )
    assertion = body.get("client_assertion")
    if not assertion:
        raise ClientAuthenticationFailed(
            "client_assertion is required with client_assertion_type: send the signed JWT", used_basic=False
        )
    try:
        claimed = client_assertion.claimed_client_id(assertion)
    except InvalidClient as problem:
        raise ClientAuthenticationFailed(problem.description, used_basic=False) from None
    body_id = body.get("client_id") or None
    if body_id is not None and claimed is not None and body_id != claimed:
        raise ClientAuthenticationFailed(
            f"client_id {echo(body_id, 80)} and the client_assertion's sub {echo(claimed, 80)} name different "
            "clients (RFC 7521 section 4.2)",
            used_basic=False,
        )
    client_id = body_id or claimed
    if not client_id:
        raise ClientAuthenticationFailed(
            "client_assertion names no client: its sub must be the client_id", used_basic=False
        )
    return ClientCredentials(client_id, None, PRIVATE_KEY_JWT, assertion)


def parse(authorization: str | None, body: Mapping[str, str]) -> ClientCredentials:
    """Read the client's credentials from the Authorization header and the body."""
    if body.get("client_assertion_type") or body.get("client_assertion"):
        return _assertion(authorization, body)
    body_id = body.get("client_id") or None
    body_secret = body.get("client_secret") or None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            client_id, secret = _decode_basic(value)
            if body_secret is not None:
                raise InvalidRequest(
                    "client_secret was sent both in the Authorization header and in the body; "
                    "use one method only (RFC 6749 section 2.3)"
                )
            if body_id is not None and body_id != client_id:
                raise InvalidRequest("client_id in the body names a different client than the Authorization header")
            if not client_id:
                raise ClientAuthenticationFailed("Basic credentials carry an empty client_id", used_basic=True)
            return ClientCredentials(client_id, secret, BASIC)
    if body_id is None:
        raise ClientAuthenticationFailed(
            "client authentication is required: send HTTP Basic credentials, or client_id "
            "(and client_secret for a confidential client) in the body",
            used_basic=False,
        )
    if body_secret is not None:
        return ClientCredentials(body_id, body_secret, POST)
    return ClientCredentials(body_id, None, NONE)


def secret_matches(client: Client, secret: str, now: float) -> bool:
    """The client's secret, or its previous one until that stops working.

    A regenerated secret may leave the previous one working for a while (INTERFACE.md
    section 6: "the old secret keeps working N more seconds, so an app can roll its secret
    without downtime"); it works while now < previous_secret_expires_at, and is compared
    in constant time exactly as the current one.
    """
    if secrets.matches(secret, client.secret_hash):
        return True
    expires_at = client.previous_secret_expires_at
    return expires_at is not None and now < expires_at and secrets.matches(secret, client.previous_secret_hash)


def authenticate(client: Client, credentials: ClientCredentials, *, now: float) -> None:
    """Check the presented secret against the client (constant time)."""
    if client.jwks:
        raise ClientAuthenticationFailed(
            f"client {client.identifier!r} authenticates with private_key_jwt (it has a registered key set): "
            f"send client_assertion_type={client_assertion.ASSERTION_TYPE} and client_assertion, a JWT signed "
            "with one of its keys",
            used_basic=credentials.used_basic,
        )
    if client.is_public:
        if credentials.secret:
            raise ClientAuthenticationFailed(
                f"client {client.identifier!r} is a public client and has no secret; send client_id only",
                used_basic=credentials.used_basic,
            )
        return
    if not credentials.secret:
        raise ClientAuthenticationFailed(
            f"client {client.identifier!r} is confidential: send its client_secret "
            "(HTTP Basic or client_secret in the body)",
            used_basic=credentials.used_basic,
        )
    if client.secret_hash is None:
        # A public client made confidential keeps no secret until one is generated.
        raise ClientAuthenticationFailed(
            f"client {client.identifier!r} is confidential but has no secret yet: an admin of the account must "
            "generate one (the console's Regenerate secret, or 'tessera clients rotate-secret')",
            used_basic=credentials.used_basic,
        )
    if not secret_matches(client, credentials.secret, now):
        raise ClientAuthenticationFailed(
            f"client_secret is wrong for client {client.identifier!r}; if it was regenerated, use the new one",
            used_basic=credentials.used_basic,
        )


def unknown_client(client_id: str, numeric_match: Client | None, *, used_basic: bool) -> ClientAuthenticationFailed:
    """invalid_client for an unknown client_id, naming the fix when a numeric id was sent."""
    if numeric_match is not None:
        return ClientAuthenticationFailed(
            f"client_id {client_id} is the numeric id of client {numeric_match.name!r}; "
            f"send its identifier {numeric_match.identifier!r} as client_id instead",
            used_basic=used_basic,
        )
    return ClientAuthenticationFailed(
        f"no client with identifier {client_id!r} exists on this account; check client_id",
        used_basic=used_basic,
    )


# Builds the error for a client_id that names no client; the second argument is the
# client whose numeric id was sent instead of its identifier, if any.
UnknownClient = Callable[[str, Client | None], Exception]


async def find_client(
    clients: ClientStore,
    account: Account,
    client_id: str,
    unknown: UnknownClient,
    documents: ClientDocuments | None = None,
) -> Client:
    """The client with this identifier usable on the account, or `unknown`'s error.

    Zendesk's users often sent the numeric id; when one matches, the error names the fix.
    A client_id that is a URL names a client ID metadata document
    (protocol/client_metadata_document.py): resolved through `documents` unless the
    account's registration policy is off, when it is unknown like any other; a document
    that will not do, or an endpoint that takes no `documents` (the device grant's),
    raises DocumentProblem.
    """
    if client_metadata_document.is_url(client_id):
        if account.registration_policy == "off":
            raise unknown(client_id, None)  # INTERFACE.md section 8: refused like unknown ones
        if documents is None:
            raise DocumentProblem(
                "this endpoint does not serve such clients: they sign users in at the authorization endpoint "
                "and redeem their codes at the token endpoint"
            )
        return await documents.resolve(account.id, client_id)
    client = await clients.find(account.id, client_id)
    if client is not None:
        return client
    numeric_id = whole_number(client_id)
    numeric = None if numeric_id is None else await clients.find_by_numeric_id(account.id, numeric_id)
    raise unknown(client_id, numeric)


async def authenticate_client(
    clients: ClientStore,
    account: Account,
    authorization: str | None,
    params: Mapping[str, str],
    *,
    now: float,
    documents: ClientDocuments | None = None,
    assertions: AssertionCheck | None = None,
) -> Client:
    """RFC 6749 section 3.2.1, shared by the token, revocation and introspection endpoints;
    `assertions`: the endpoint accepts private_key_jwt (client_assertion.py)."""
    credentials = parse(authorization, params)

    def unknown(client_id: str, numeric: Client | None) -> Exception:
        return unknown_client(client_id, numeric, used_basic=credentials.used_basic)

    try:
        client = await find_client(clients, account, credentials.client_id, unknown, documents)
    except DocumentProblem as problem:
        raise ClientAuthenticationFailed(
            f"client_id {echo(credentials.client_id, 120)} names a client ID metadata document that "
            f"cannot be used: {problem.message}",
            used_basic=credentials.used_basic,
        ) from None
    if credentials.assertion is not None:
        await _verify_assertion(client, credentials.assertion, assertions, now)
    else:
        authenticate(client, credentials, now=now)
    return client


async def _verify_assertion(client: Client, assertion: str, check: AssertionCheck | None, now: float) -> None:
    if check is None:
        raise ClientAuthenticationFailed(
            "this endpoint does not accept private_key_jwt; authenticate with the client's secret", used_basic=False
        )
    try:
        await client_assertion.verify(assertion, client, check, now)
    except InvalidClient as problem:
        raise ClientAuthenticationFailed(problem.description, used_basic=False) from None
