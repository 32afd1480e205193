"""Client ID metadata documents resolved into clients: the protocol's ClientDocuments port
(draft-ietf-oauth-client-id-metadata-document-00 sections 4, 4.3, 4.4).

resolve(account, url): the URL checked (section 3), the document taken from this process's
cache or fetched (http.py: SSRF guard, 3 s, 5 KB), validated (section 4.1), and the client
it describes saved as a client row of the account (registration "metadata_document",
public), because codes, tokens and consents name clients by numeric id. A document fetched
later than the row was last saved, that says something else, updates the row: the latest
document's redirect URIs win, and users are asked for their consent again when they change.

A first use saves a row and an audit entry, for anyone who sends a URL: so it happens only
where a client's flow starts (the authorization endpoint and PAR, through `registering`,
which knows the request's source address) and counts against that address's throttle of
open registrations (INTERFACE.md section 9), as a registration with RFC 7591 does. Every
other endpoint (token, revocation, introspection) refuses a document no flow started
from: no code or token of such a client can exist, and a client_id alone then made a row.

The cache, per process (docs/architecture.md, "Caches"):
- a valid document for as long as its HTTP caching headers allow, at most an hour
  (caching.py), keyed by URL, at most MAX_ENTRIES (the oldest go first);
- a failure (unreachable, refused, invalid) for FAILURE_LIFETIME seconds. Section 4.4 says
  the server "MUST NOT cache error responses", meaning an error is never taken as the
  client's metadata, and it never is; remembering the failure briefly only stops a dead or
  hostile URL from making Tessera fetch it on every request;
- when the document's host fails for a moment (a timeout, no connection, a 5xx or 429), a
  client already saved is used as saved: answering invalid_client then made apps drop their
  tokens, which many treat as fatal. A document that answers but is gone (404) or no
  longer valid still refuses the client;
- concurrent requests for one URL share one fetch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tessera import audit_vocabulary as vocabulary
from tessera.fetching import http
from tessera.model import AuditEntry, Client
from tessera.protocol import client_metadata_document as rules
from tessera.protocol import lifetimes
from tessera.protocol.client_metadata_document import ClientMetadata, DocumentProblem
from tessera.settings import Settings
from tessera.storage.client_rows import NewClient
from tessera.storage.clients import SqlClientStore
from tessera.throttling import Throttles

log = logging.getLogger("tessera.client_documents")

FAILURE_LIFETIME = 10.0
MAX_ENTRIES = 1000


@dataclass(frozen=True, slots=True)
class _Entry:
    metadata: ClientMetadata | None
    problem: str  # when metadata is None
    fetched_at: float  # wall clock, to compare with a row's updated_at
    fresh_until: float  # monotonic
    transient: bool = False  # the failure says nothing about the document (http.FetchFailed)


NOT_STARTED = (
    "no authorization request of this client has reached this account yet: its flow starts at the "
    "authorization endpoint (or PAR), where its metadata document is first read"
)


@dataclass(frozen=True, slots=True)
class Registering:
    """The ClientDocuments of a request that may use a client for the first time (the
    authorization endpoint, PAR), from `address`."""

    resolver: MetadataDocumentResolver
    address: str | None

    async def resolve(self, account_id: int, url: str) -> Client:
        return await self.resolver.resolve(account_id, url, may_register=True, address=self.address)


class MetadataDocumentResolver:
    def __init__(
        self,
        clients: SqlClientStore,
        settings: Settings,
        throttles: Throttles,
        *,
        resolve: http.Resolve = http.system_resolve,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clients = clients
        self.settings = settings
        self.throttles = throttles
        self._resolve = resolve
        self._monotonic = monotonic
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._fetching: dict[str, asyncio.Task[_Entry]] = {}

    def registering(self, address: str | None) -> Registering:
        return Registering(self, address)

    async def resolve(
        self, account_id: int, url: str, *, may_register: bool = False, address: str | None = None
    ) -> Client:
        """`may_register`: the request (from `address`) may save a new client (Registering);
        without it a document that no flow started from is refused."""
        problem = rules.url_problem(url, allow_http_loopback=self.settings.cimd_allow_private)
        if problem is not None:
            raise DocumentProblem(f"the URL does not qualify: {problem}")
        entry = await self._entry(url)
        if entry.metadata is None:
            saved = await self.clients.find(account_id, url) if entry.transient else None
            if saved is not None:
                return saved  # the host failed for a moment: the client as last saved
            raise DocumentProblem(entry.problem)
        existing = await self.clients.find(account_id, url)
        if existing is not None and (existing.updated_at >= entry.fetched_at or _same(existing, entry.metadata)):
            return existing  # unchanged, or saved from a document fetched later than ours
        now = self.settings.clock()
        if existing is None:
            if not may_register:
                raise DocumentProblem(NOT_STARTED)
            wait = await self.throttles.registration_attempt(account_id, address, now)
            if wait is not None:
                raise DocumentProblem(
                    f"too many new clients were registered from this address; try again in {wait} seconds"
                )
        return await self.clients.save_document_client(
            _new_client(account_id, entry.metadata), now, _recorder(account_id, url, now)
        )

    def forget(self) -> None:
        self._entries.clear()

    async def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(url)
        if entry is not None and self._monotonic() < entry.fresh_until:
            return entry
        task = self._fetching.get(url)
        if task is None:
            task = asyncio.ensure_future(self._fetch(url))
            self._fetching[url] = task
            task.add_done_callback(lambda _: self._fetching.pop(url, None))
        # Shielded: a request that gives up does not cancel the fetch others wait for.
        return await asyncio.shield(task)

    async def _fetch(self, url: str) -> _Entry:
        fetched_at = self.settings.clock()
        try:
            fetched = await http.fetch_json(
                url,
                time_limit=self.settings.cimd_fetch_timeout,
                max_bytes=rules.MAX_DOCUMENT_BYTES,
                allow_private=self.settings.cimd_allow_private,
                now=fetched_at,
                resolve=self._resolve,
            )
        except http.FetchFailed as failed:
            problem = f"the document could not be fetched: {failed.message}"
            return self._remember(url, None, problem, FAILURE_LIFETIME, transient=failed.transient)
        try:
            metadata = rules.parse(url, fetched.document)
        except DocumentProblem as invalid:
            return self._remember(url, None, invalid.message, FAILURE_LIFETIME)
        return self._remember(url, metadata, "", fetched.lifetime, fetched_at)

    def _remember(
        self,
        url: str,
        metadata: ClientMetadata | None,
        problem: str,
        lifetime: float,
        fetched_at: float = 0.0,
        *,
        transient: bool = False,
    ) -> _Entry:
        if metadata is None:
            log.info("client metadata document %.255r refused: %s", url, problem)
        entry = _Entry(metadata, problem, fetched_at, self._monotonic() + lifetime, transient)
        self._entries.pop(url, None)
        if lifetime > 0:
            while len(self._entries) >= MAX_ENTRIES:
                self._entries.popitem(last=False)
            self._entries[url] = entry
        return entry


def _same(client: Client, metadata: ClientMetadata) -> bool:
    return (
        client.name == metadata.name
        and client.logo_url == metadata.logo_uri
        and client.redirect_uris == metadata.redirect_uris
        and client.grant_types == frozenset(metadata.grant_types)
        and client.allowed_scopes == metadata.scopes
    )


def _new_client(account_id: int, metadata: ClientMetadata) -> NewClient:
    return NewClient(
        account_id=account_id,
        identifier=metadata.client_id,
        name=metadata.name,
        description="",
        company="",
        logo_url=metadata.logo_uri,
        redirect_uris=metadata.redirect_uris,
        kind="public",
        grant_types=metadata.grant_types,
        allowed_scopes=metadata.scopes,
        access_token_lifetime=lifetimes.ACCESS_DEFAULT,
        refresh_token_lifetime=lifetimes.REFRESH_DEFAULT,
        access_token_format="opaque",
        introspection=False,
        user_id=None,
        secret_hash=None,
        secret_prefix="",
        registration="metadata_document",
    )


def _recorder(account_id: int, url: str, now: float) -> Callable[[tuple[Client, str]], Iterable[AuditEntry]]:
    def record(result: tuple[Client, str]) -> Iterable[AuditEntry]:
        client, change = result
        if not change:
            return ()
        action, text = (
            (vocabulary.REGISTER, f"Client described by its metadata document at {url} first used")
            if change == "created"
            else (vocabulary.UPDATE, f"Client updated from its changed metadata document at {url}")
        )
        return (
            vocabulary.entry(
                account_id, vocabulary.SYSTEM_ACTOR, action, vocabulary.OAUTH_CLIENT, client.id, client.name, text, now
            ),
        )

    return record
