"""Client ID metadata documents over HTTP (INTERFACE.md section 8; draft-ietf-oauth-client-id-
metadata-document-00 sections 3, 4, 4.1, 4.3, 4.4, 5 and 6.5): a client_id that is a URL,
resolved by fetching the document a local server publishes (TESSERA_CIMD_ALLOW_PRIVATE=1
lets Tessera fetch from 127.0.0.1 over http, as in development), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tessera.app import create_app
from tessera.management.audit_events import REGISTER, UPDATE
from tessera.model import Client
from tessera.settings import Settings
from tessera.storage.audit import AuditFilter
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tests.document_server import DocumentServer, Reply, document, running
from tests.support import World, consent, pkce_pair, query_of, sign_in

pytestmark = pytest.mark.anyio

CALLBACK = "http://127.0.0.1:3000/callback"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(cimd_allow_private=True)


@pytest.fixture
def server() -> Iterator[DocumentServer]:
    yield from running()


async def _policy(stores: Stores, world: World, policy: str) -> None:
    await stores.accounts.set_registration_policy(world.account.id, policy)


def _authorize(client_id: str, redirect_uri: str = CALLBACK, **params: str) -> tuple[str, dict[str, str]]:
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "read",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    return verifier, query


async def _code(http: httpx.AsyncClient, world: World, client_id: str, redirect_uri: str = CALLBACK) -> tuple[str, str]:
    """Sign in, authorize, consent: the code and its PKCE verifier."""
    await sign_in(http, world.user.email)
    verifier, query = _authorize(client_id, redirect_uri)
    page = await http.get("/oauth/authorizations/new", params=query)
    assert page.status_code == 200, page.text
    answer = await consent(http, page)
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["location"].startswith(redirect_uri)
    params = query_of(answer.headers["location"])
    assert params["state"] == "st" and params["iss"] == world.origin
    return params["code"], verifier


async def _client(stores: Stores, world: World, url: str) -> Client:
    client = await stores.clients.find(world.account.id, url)
    assert client is not None
    return client


async def test_a_url_client_id_runs_the_whole_code_flow_with_pkce(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """Section 4.1 and the MCP authorization specification's flow: the document's client,
    public, signs a user in, exchanges its code with client_id alone, refreshes, revokes."""
    await _policy(stores, world, "open")
    url = server.serve("/oauth/client.json", document(server.url("/oauth/client.json")))
    code, verifier = await _code(http, world, url)
    token = await http.post(
        "/oauth/tokens",
        data={
            "grant_type": "authorization_code",
            "client_id": url,
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    body = token.json()
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == world.user.email
    refreshed = await http.post(
        "/oauth/tokens", data={"grant_type": "refresh_token", "client_id": url, "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    revoked = await http.post("/oauth/revoke", data={"client_id": url, "token": refreshed.json()["refresh_token"]})
    assert revoked.status_code == 200
    client = await _client(stores, world, url)
    assert (client.registration, client.kind, client.name) == ("metadata_document", "public", "Example MCP Client")
    assert client.redirect_uris == (CALLBACK, "http://localhost:3000/callback")
    assert client.is_self_registered
    entries = await stores.audit.newest_first(world.account.id, AuditFilter(source_id=client.id))
    assert [e.entry.action for e in entries if e.entry.action in (REGISTER, UPDATE)] == [REGISTER]


async def test_the_consent_page_says_the_app_described_itself(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """Section 6.4: show the host of the client_id beside the fetched name."""
    await _policy(stores, world, "open")
    url = server.serve("/c.json", document(server.url("/c.json"), client_name="Agent Smith"))
    await sign_in(http, world.user.email)
    page = await http.get("/oauth/authorizations/new", params=_authorize(url)[1])
    assert page.status_code == 200
    assert "Agent Smith" in page.text
    assert "This app registered itself; its name is not verified." in page.text
    assert f"127.0.0.1:{server.port}" in page.text


async def test_policy_token_resolves_documents_too(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """INTERFACE.md section 8: only the policy off refuses URL client ids (an initial access
    token gates registration requests, which a metadata document never makes)."""
    await _policy(stores, world, "token")
    url = server.serve("/c.json", document(server.url("/c.json")))
    await _code(http, world, url)


async def test_policy_off_refuses_a_url_client_id_like_an_unknown_one(
    http: httpx.AsyncClient, world: World, server: DocumentServer
) -> None:
    url = server.serve("/c.json", document(server.url("/c.json")))
    page = await http.get("/oauth/authorizations/new", params=_authorize(url)[1])
    unknown = await http.get("/oauth/authorizations/new", params=_authorize("no-such-client")[1])
    assert page.status_code == unknown.status_code == 400
    assert "location" not in page.headers
    assert "Unknown client" in page.text and "is registered on this account" in page.text
    token = await http.post(
        "/oauth/tokens", data={"grant_type": "refresh_token", "client_id": url, "refresh_token": "x"}
    )
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
    assert "no client with identifier" in token.json()["error_description"]
    assert server.hits["/c.json"] == 0  # nothing fetched
    discovery = await http.get("/.well-known/oauth-authorization-server")
    assert "client_id_metadata_document_supported" not in discovery.json()


async def test_section_5_discovery_says_documents_are_supported_unless_policy_is_off(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    await _policy(stores, world, "open")
    discovery = await http.get("/.well-known/oauth-authorization-server")
    assert discovery.json()["client_id_metadata_document_supported"] is True


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"client_id": "https://elsewhere.example/c.json"}, "is not its own URL"),
        ({"redirect_uris": []}, "has no redirect_uris"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "needs a shared secret"),
        ({"grant_types": ["client_credentials"]}, "grant_types may hold only"),
    ],
)
async def test_section_4_1_an_invalid_document_is_a_page_saying_what_is_wrong(
    http: httpx.AsyncClient,
    world: World,
    stores: Stores,
    server: DocumentServer,
    change: dict[str, object],
    words: str,
) -> None:
    """Never a redirect, like an unknown client_id (RFC 6749 section 4.1.2.1)."""
    await _policy(stores, world, "open")
    url = server.serve("/c.json", document(server.url("/c.json"), **change))
    page = await http.get("/oauth/authorizations/new", params=_authorize(url)[1])
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "Invalid client metadata document" in page.text
    assert words in page.text.replace("&#39;", "'")
    assert await stores.clients.find(world.account.id, url) is None


async def test_section_4_3_a_document_that_cannot_be_fetched_aborts_the_request(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    page = await http.get("/oauth/authorizations/new", params=_authorize(server.url("/missing.json"))[1])
    assert page.status_code == 400 and "location" not in page.headers
    assert "could not be fetched: it answered HTTP 404" in page.text
    token = await http.post(
        "/oauth/tokens",
        data={"grant_type": "authorization_code", "client_id": server.url("/missing.json"), "code": "x"},
    )
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    assert "HTTP 404" in token.json()["error_description"]
    # The failure is remembered briefly: the dead URL was fetched once for both requests.
    assert server.hits["/missing.json"] == 1


async def test_section_3_a_url_that_does_not_qualify_is_refused_clearly(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    long_url = server.url("/" + "a" * 250)
    page = await http.get("/oauth/authorizations/new", params=_authorize(long_url)[1])
    assert page.status_code == 400 and "at most 255" in page.text
    page = await http.get("/oauth/authorizations/new", params=_authorize(server.url("/a/../c.json"))[1])
    assert page.status_code == 400 and ". or .. path segments" in page.text
    assert sum(server.hits.values()) == 0


async def test_a_redirect_uri_the_document_does_not_list_is_refused_on_a_page(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """Section 4.5 and RFC 9700 section 4.1.3: exact match against the document's URIs."""
    await _policy(stores, world, "open")
    url = server.serve("/c.json", document(server.url("/c.json")))
    page = await http.get("/oauth/authorizations/new", params=_authorize(url, "https://evil.example/cb")[1])
    assert page.status_code == 400 and "location" not in page.headers
    assert "is not registered" in page.text and CALLBACK in page.text


async def test_a_public_document_client_must_send_pkce(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    url = server.serve("/c.json", document(server.url("/c.json")))
    await sign_in(http, world.user.email)
    query = _authorize(url)[1]
    del query["code_challenge"], query["code_challenge_method"]
    answer = await http.get("/oauth/authorizations/new", params=query)
    assert answer.status_code == 302
    assert query_of(answer.headers["location"])["error"] == "invalid_request"


async def test_section_4_4_a_cached_document_is_not_fetched_again(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    url = server.serve("/c.json", document(server.url("/c.json")), headers={"Cache-Control": "max-age=600"})
    for _ in range(3):
        page = await http.get("/oauth/authorizations/new", params=_authorize(url)[1])
        assert page.status_code == 302  # to the login page
    assert server.hits["/c.json"] == 1


async def test_a_changed_document_updates_the_client_its_latest_redirect_uris_win_and_consent_is_asked_again(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    url = server.url("/c.json")
    server.serve("/c.json", document(url), headers={"Cache-Control": "no-store"})
    await _code(http, world, url)
    moved = "http://127.0.0.1:4000/new-callback"
    server.serve(
        "/c.json", document(url, client_name="Renamed", redirect_uris=[moved]), headers={"Cache-Control": "no-store"}
    )
    old = await http.get("/oauth/authorizations/new", params=_authorize(url)[1])
    assert old.status_code == 400 and "is not registered" in old.text
    await _code(http, world, url, moved)
    client = await _client(stores, world, url)
    assert client.redirect_uris == (moved,) and client.name == "Renamed"
    entries = await stores.audit.newest_first(world.account.id, AuditFilter(source_id=client.id))
    assert [e.entry.action for e in entries if e.entry.action in (REGISTER, UPDATE)] == [UPDATE, REGISTER]


@pytest.fixture
async def guarded_http(settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The application as deployed: TESSERA_CIMD_ALLOW_PRIVATE unset."""
    app = create_app(settings.with_overrides(cimd_allow_private=False), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


async def test_section_6_5_without_the_development_setting_private_addresses_are_refused(
    guarded_http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    await _policy(stores, world, "open")
    server.serve("/c.json", document(f"https://127.0.0.1:{server.port}/c.json"))
    page = await guarded_http.get(
        "/oauth/authorizations/new", params=_authorize(f"https://127.0.0.1:{server.port}/c.json")[1]
    )
    assert page.status_code == 400
    assert "127.0.0.1 is a loopback address" in page.text
    page = await guarded_http.get("/oauth/authorizations/new", params=_authorize(server.url("/c.json"))[1])
    assert page.status_code == 400 and "https scheme" in page.text
    assert server.hits["/c.json"] == 0


async def test_requests_that_arrive_together_share_one_fetch(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """However many requests name an uncached URL at once, the host sees one request."""
    await _policy(stores, world, "open")
    url = server.serve(
        "/slow.json", document(server.url("/slow.json")), delay=0.3, headers={"Cache-Control": "no-store"}
    )
    pages = await asyncio.gather(*(http.get("/oauth/authorizations/new", params=_authorize(url)[1]) for _ in range(5)))
    assert [page.status_code for page in pages] == [302] * 5  # each on to the login page
    assert server.hits["/slow.json"] == 1


async def test_a_document_no_flow_started_from_is_refused_at_the_token_endpoint_and_saves_nothing(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """A first use saves a client row and an audit entry: only where a flow starts. At the
    token endpoint no code or token of such a client can exist, and a client_id alone made
    a row there."""
    await _policy(stores, world, "open")
    url = server.serve("/never.json", document(server.url("/never.json")))
    token = await http.post("/oauth/tokens", data={"grant_type": "authorization_code", "client_id": url, "code": "x"})
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"
    assert "starts at the authorization endpoint" in token.json()["error_description"]
    assert await stores.clients.find(world.account.id, url) is None
    await _code(http, world, url)  # the flow, from its start, works


@pytest.fixture
async def throttled_http(settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """Throttles on, and two open registrations per address in a window."""
    tight = settings.with_overrides(throttle=True, throttle_registration_per_address=2)
    app = create_app(tight, db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


async def test_new_document_clients_count_against_the_addresss_registration_throttle(
    throttled_http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer
) -> None:
    """INTERFACE.md section 9 (open registration, per source address): each URL named a new
    client, a row and an audit entry, without limit. The third new one from an address in
    the window is refused, saying when to try again; a client already saved is not counted."""
    await _policy(stores, world, "open")
    urls = [server.serve(f"/flood{n}.json", document(server.url(f"/flood{n}.json"))) for n in range(3)]
    for url in urls[:2]:
        page = await throttled_http.get("/oauth/authorizations/new", params=_authorize(url)[1])
        assert page.status_code in (200, 302, 303), page.text
    refused = await throttled_http.get("/oauth/authorizations/new", params=_authorize(urls[2])[1])
    assert refused.status_code == 400 and "location" not in refused.headers
    assert "too many new clients were registered from this address; try again in" in refused.text
    assert await stores.clients.find(world.account.id, urls[2]) is None
    again = await throttled_http.get("/oauth/authorizations/new", params=_authorize(urls[0])[1])
    assert again.status_code in (200, 302, 303), again.text


async def _refresh_token(http: httpx.AsyncClient, world: World, url: str) -> str:
    code, verifier = await _code(http, world, url)
    data = {"grant_type": "authorization_code", "client_id": url, "code": code, "redirect_uri": CALLBACK}
    token = await http.post("/oauth/tokens", data={**data, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    return str(token.json()["refresh_token"])


@pytest.mark.parametrize(("status", "kept"), [(503, True), (429, True), (404, False), (410, False)])
async def test_a_saved_client_outlives_a_moment_of_failure_of_its_documents_host(
    http: httpx.AsyncClient, world: World, stores: Stores, server: DocumentServer, status: int, kept: bool
) -> None:
    """Section 4.4 forbids taking an error for the document, not using the client as last
    saved while its host fails for a moment (a 5xx, 429, a timeout): answering
    invalid_client then made apps drop their tokens. A document that is gone (404, 410) is
    an answer about the document: its client is refused."""
    await _policy(stores, world, "open")
    url = server.url(f"/c{status}.json")
    server.serve(f"/c{status}.json", document(url), headers={"Cache-Control": "no-store"})
    refresh = await _refresh_token(http, world, url)
    server.serve_raw(f"/c{status}.json", Reply(b"unavailable", status, {"Retry-After": "5"}))
    refreshed = await http.post(
        "/oauth/tokens", data={"grant_type": "refresh_token", "client_id": url, "refresh_token": refresh}
    )
    if kept:
        assert refreshed.status_code == 200, refreshed.text
    else:
        assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_client"
        assert f"HTTP {status}" in refreshed.json()["error_description"]
