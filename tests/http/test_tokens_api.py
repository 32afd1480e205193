"""The Tokens API, Zendesk's shapes: /api/v2/oauth/tokens(.json), /{id}(.json), /current(.json).

INTERFACE.md "Introspection, revocation and the Tokens API": reading needs `read` (or
`users:read`), creating and deleting `write`; an admin-created token acts as that admin;
`token` in listings is the first 10 characters, nothing appended; cursor pagination with
`page[size]` / `page[after]`. Bearer errors as RFC 6750 section 3.1. The clock is frozen,
so timestamps are exact.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from tessera.protocol import secrets
from tessera.storage import token_columns
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, RegisteredClient, World, add_client, make_world, sign_in

pytestmark = pytest.mark.anyio

TOKENS = "/api/v2/oauth/tokens"


class FrozenClock(Clock):
    """Time that moves only when the test advances it."""

    def __init__(self) -> None:
        super().__init__()
        self.start = float(int(time.time()))

    def __call__(self) -> float:
        return self.start + self.offset


@pytest.fixture
def clock() -> Clock:
    return FrozenClock()


@pytest.fixture
async def pw(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A client allowed the password grant, to mint tokens for any user quickly."""
    return await add_client(stores, world.account, clock(), name="Password App", grant_types=("password",))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _token(http: httpx.AsyncClient, client: RegisteredClient, email: str, scope: str = "read") -> str:
    response = await http.post(
        "/oauth/tokens",
        auth=client.basic(),
        data={"grant_type": "password", "username": email, "password": PASSWORD, "scope": scope},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _id_of(http: httpx.AsyncClient, token: str) -> int:
    response = await http.get(f"{TOKENS}/current", headers=_bearer(token))
    assert response.status_code == 200, response.text
    return int(response.json()["token"]["id"])


async def _api_status(http: httpx.AsyncClient, token: str) -> int:
    return (await http.get("/api/v2/users/me", headers=_bearer(token))).status_code


def _assert_problem(response: httpx.Response, status: int, error: str, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert words in response.json()["description"]


# --- Listing ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [TOKENS, TOKENS + ".json"])
async def test_a_user_lists_their_own_live_tokens(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, clock: Clock, path: str
) -> None:
    now = clock()
    first = await _token(http, pw, world.user.email, "read")
    second = await _token(http, pw, world.user.email, "read write")
    await _token(http, pw, world.admin.email, "read")  # someone else's
    revoked = await _token(http, pw, world.user.email, "read")
    assert (await http.post("/oauth/revoke", auth=pw.basic(), data={"token": revoked})).status_code == 200
    first_id = await _id_of(http, first)

    response = await http.get(path, headers=_bearer(first))
    assert response.status_code == 200, response.text
    tokens = response.json()["tokens"]
    assert [t["token"] for t in tokens] == [first[:10], second[:10]]
    assert tokens[0] == {
        "id": first_id,
        "url": f"{world.origin}/api/v2/oauth/tokens/{first_id}.json",
        "user_id": world.user.id,
        "client_id": pw.client.id,
        "token": first[:10],
        "scopes": ["read"],
        "created_at": _iso(now),
        "expires_at": _iso(now + 1800),
        "used_at": _iso(now),
    }
    assert tokens[1]["scopes"] == ["read", "write"]
    assert all("full_token" not in t for t in tokens)
    meta = response.json()["meta"]
    assert (meta["has_more"], meta["before_cursor"]) == (False, None)
    assert isinstance(meta["after_cursor"], str) and meta["after_cursor"]
    assert response.json()["links"] == {"next": None, "prev": None}


async def test_expired_tokens_are_not_listed(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, clock: Clock
) -> None:
    old = await _token(http, pw, world.user.email)
    clock.advance(1800)
    new = await _token(http, pw, world.user.email)
    tokens = (await http.get(TOKENS, headers=_bearer(new))).json()["tokens"]
    assert [t["token"] for t in tokens] == [new[:10]]
    assert await _api_status(http, old) == 401


async def test_an_admin_lists_every_token_of_the_account_with_all_true(  # type: ignore[no-untyped-def]
    app, http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    other_pw = await add_client(stores, other.account, clock(), grant_types=("password",))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=other.origin) as http_other:
        foreign = await _token(http_other, other_pw, other.admin.email)

    admin = await _token(http, pw, world.admin.email)
    users = await _token(http, pw, world.user.email)
    machine = (
        await http.post(
            "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
        )
    ).json()["access_token"]

    own = (await http.get(TOKENS, headers=_bearer(admin))).json()["tokens"]
    assert [t["token"] for t in own] == [admin[:10], machine[:10]]  # the machine token acts as the admin

    everyone = await http.get(TOKENS, params={"all": "true"}, headers=_bearer(admin))
    assert everyone.status_code == 200
    listed = [t["token"] for t in everyone.json()["tokens"]]
    assert listed == [admin[:10], users[:10], machine[:10]]
    assert foreign[:10] not in listed

    by_client = await http.get(
        TOKENS + ".json", params={"all": "true", "client_id": str(world.machine.client.id)}, headers=_bearer(admin)
    )
    assert [t["token"] for t in by_client.json()["tokens"]] == [machine[:10]]
    assert {t["client_id"] for t in by_client.json()["tokens"]} == {world.machine.client.id}


async def test_an_end_user_may_not_list_all_tokens(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    token = await _token(http, pw, world.user.email, "read write")
    response = await http.get(TOKENS, params={"all": "true"}, headers=_bearer(token))
    _assert_problem(response, 403, "Forbidden", "only admins may list all tokens")


async def test_client_id_must_be_numeric(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    token = await _token(http, pw, world.admin.email)
    response = await http.get(TOKENS, params={"all": "true", "client_id": pw.client_id}, headers=_bearer(token))
    _assert_problem(response, 400, "invalid_request", "client_id must be a client's numeric id")
    # The OpenAPI document's minimum is 1: no record has id 0 (a negative-data check of
    # schemathesis found 0 answered 200).
    zero = await http.get(TOKENS, params={"all": "true", "user_id": "0"}, headers=_bearer(token))
    _assert_problem(zero, 400, "invalid_request", "user_id must be a user's numeric id (1 or more)")
    # A bad filter is a 400 (docs/administration.md), not the caller's own tokens.
    for word in ("yes", "1", ""):
        vague = await http.get(TOKENS, params={"all": word}, headers=_bearer(token))
        _assert_problem(vague, 400, "invalid_request", "all must be true or false")
    assert (await http.get(TOKENS, params={"all": "false"}, headers=_bearer(token))).status_code == 200


# --- Cursor pagination ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [4, 5])
async def test_cursor_pagination_walks_every_token_once(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, count: int
) -> None:
    """Pages of two; with four tokens the second page is full and still the last one."""
    minted = [await _token(http, pw, world.user.email) for _ in range(count)]
    caller = minted[0]
    pages: list[list[str]] = []
    flags: list[bool] = []
    url: str | None = f"{world.origin}{TOKENS}.json?page[size]=2"
    while url is not None and len(pages) < 5:
        page = await http.get(url, headers=_bearer(caller))
        assert page.status_code == 200, page.text
        body = page.json()
        pages.append([t["token"] for t in body["tokens"]])
        flags.append(body["meta"]["has_more"])
        assert body["meta"]["has_more"] is (body["links"]["next"] is not None)
        url = body["links"]["next"]
    expected = [[m[:10] for m in minted[i : i + 2]] for i in range(0, count, 2)]
    assert pages == expected
    assert flags == [True] * (len(expected) - 1) + [False]


async def test_page_after_takes_the_after_cursor(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    minted = [await _token(http, pw, world.user.email) for _ in range(3)]
    first = (await http.get(TOKENS, params={"page[size]": "1"}, headers=_bearer(minted[0]))).json()
    assert first["meta"]["has_more"] is True
    seen = [t["token"] for t in first["tokens"]]
    cursor = first["meta"]["after_cursor"]
    while True:
        page = (
            await http.get(TOKENS, params={"page[size]": "1", "page[after]": cursor}, headers=_bearer(minted[0]))
        ).json()
        seen += [t["token"] for t in page["tokens"]]
        if not page["meta"]["has_more"]:
            break
        cursor = page["meta"]["after_cursor"]
    assert seen == [m[:10] for m in minted]


async def test_links_next_keeps_the_filters(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    admin = await _token(http, pw, world.admin.email)
    users = [await _token(http, pw, world.user.email) for _ in range(2)]
    seen: list[str] = []
    url: str | None = f"{world.origin}{TOKENS}.json?all=true&page[size]=1"
    while url is not None and len(seen) < 10:
        body = (await http.get(url, headers=_bearer(admin))).json()
        seen += [t["token"] for t in body["tokens"]]
        url = body["links"]["next"]
    assert seen == [admin[:10], users[0][:10], users[1][:10]]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"page[size]": "0"}, "page[size] must be a number from 1 to 100"),
        ({"page[size]": "101"}, "page[size] must be a number from 1 to 100"),
        ({"page[size]": "ten"}, "page[size] must be a number from 1 to 100"),
        ({"page[after]": "!!!"}, "page[after] is not a cursor this API gave out"),
        ({"page[after]": "bm90LWEtbnVtYmVy"}, "page[after] is not a cursor this API gave out"),
    ],
)
async def test_bad_page_parameters_are_400(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, params: dict[str, str], words: str
) -> None:
    token = await _token(http, pw, world.user.email)
    _assert_problem(await http.get(TOKENS, params=params, headers=_bearer(token)), 400, "invalid_request", words)


# --- Showing one token ------------------------------------------------------------------------


async def test_show_by_id_own_token_and_other_users_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    users = await _token(http, pw, world.user.email)
    other_users = await _token(http, pw, world.user.email)
    admins = await _token(http, pw, world.admin.email)
    other_id, admin_id = await _id_of(http, other_users), await _id_of(http, admins)

    mine = await http.get(f"{TOKENS}/{other_id}.json", headers=_bearer(users))
    assert mine.status_code == 200, mine.text
    assert mine.json()["token"]["token"] == other_users[:10]
    assert "full_token" not in mine.json()["token"]

    _assert_problem(
        await http.get(f"{TOKENS}/{admin_id}", headers=_bearer(users)), 404, "RecordNotFound", str(admin_id)
    )
    seen_by_admin = await http.get(f"{TOKENS}/{other_id}", headers=_bearer(admins))
    assert seen_by_admin.status_code == 200
    assert seen_by_admin.json()["token"]["user_id"] == world.user.id
    _assert_problem(await http.get(f"{TOKENS}/999999999", headers=_bearer(admins)), 404, "RecordNotFound", "999999999")


async def test_a_token_of_another_account_is_not_found_even_for_an_admin(  # type: ignore[no-untyped-def]
    app, http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    other_pw = await add_client(stores, other.account, clock(), grant_types=("password",))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=other.origin) as http_other:
        foreign = await _token(http_other, other_pw, other.admin.email)
        foreign_id = await _id_of(http_other, foreign)
    admin = await _token(http, pw, world.admin.email)
    assert (await http.get(f"{TOKENS}/{foreign_id}", headers=_bearer(admin))).status_code == 404
    assert (
        await http.delete(
            f"{TOKENS}/{foreign_id}", headers=_bearer(await _token(http, pw, world.admin.email, "read write"))
        )
    ).status_code == 404


@pytest.mark.parametrize("path", [f"{TOKENS}/current", f"{TOKENS}/current.json"])
async def test_current_shows_the_calling_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, clock: Clock, path: str
) -> None:
    now = clock()
    await _token(http, pw, world.user.email)
    token = await _token(http, pw, world.user.email, "users:read")
    response = await http.get(path, headers=_bearer(token))
    assert response.status_code == 200, response.text
    shown = response.json()["token"]
    assert shown["token"] == token[:10]
    assert shown["scopes"] == ["users:read"]
    assert shown["user_id"] == world.user.id
    assert shown["expires_at"] == _iso(now + 1800)
    assert "full_token" not in shown


# --- Creating ----------------------------------------------------------------------------------


async def test_an_admin_creates_a_token_that_acts_as_the_admin(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, clock: Clock
) -> None:
    now = clock()
    admin = await _token(http, pw, world.admin.email, "read write")
    response = await http.post(
        TOKENS + ".json",
        headers=_bearer(admin),
        json={"token": {"client_id": world.web.client.id, "scopes": ["read"], "expires_in": 600}},
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()["token"]
    full = created["full_token"]
    assert full.startswith("tsa_")
    assert created["token"] == full[:10]
    assert created["client_id"] == world.web.client.id
    assert created["user_id"] == world.admin.id
    assert created["scopes"] == ["read"]
    assert created["created_at"] == _iso(now)
    assert created["expires_at"] == _iso(now + 600)
    me = await http.get("/api/v2/users/me", headers=_bearer(full))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "admin@example.com"
    # full_token is shown once: reading the token back shows only the prefix
    again = await http.get(f"{TOKENS}/{created['id']}", headers=_bearer(admin))
    assert "full_token" not in again.json()["token"]
    clock.advance(600)
    assert await _api_status(http, full) == 401


async def test_an_admin_created_token_for_a_refreshing_client_carries_a_working_refresh_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    admin = await _token(http, pw, world.admin.email, "read write")
    response = await http.post(
        TOKENS,
        headers=_bearer(admin),
        json={"token": {"client_id": world.web.client.id, "scopes": ["read"], "refresh_token_expires_in": 604800}},
    )
    assert response.status_code == 201, response.text
    refresh_token = response.json()["token"]["refresh_token"]
    refreshed = await http.post(
        "/oauth/tokens", auth=world.web.basic(), data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "read"


@pytest.mark.parametrize(
    ("caller_scope", "asked", "words"),
    [
        ("users:write", ["users:write"], "needs the scope write"),
        ("read write", ["read", "write", "impersonate"], "scope impersonate"),
        ("write", ["read"], "scope read"),
    ],
)
async def test_a_token_creates_no_token_beyond_its_own_scopes(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, caller_scope: str, asked: list[str], words: str
) -> None:
    """INTERFACE.md section 4: creating needs `write`; and a created token acts as the admin,
    so through a token it may carry no scope that token lacks: an app given a narrow token
    cannot mint itself a wider one."""
    admin = await _token(http, pw, world.admin.email, caller_scope)
    response = await http.post(
        TOKENS, headers=_bearer(admin), json={"token": {"client_id": world.web.client.id, "scopes": asked}}
    )
    assert response.status_code == 403, response.text
    assert words in response.text


async def test_a_client_that_requires_dpop_gets_no_token_from_the_tokens_api(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    """A client set to require DPoP (RFC 9449 section 5.2) gets tokens only bound to a key
    it proves at the token endpoint; the Tokens API cannot see a proof, so it refuses."""
    bound = await add_client(
        stores, world.account, clock(), redirect_uris=("https://app.example.com/cb",), require_dpop=True
    )
    admin = await _token(http, pw, world.admin.email, "read write")
    response = await http.post(
        TOKENS, headers=_bearer(admin), json={"token": {"client_id": bound.client.id, "scopes": ["read"]}}
    )
    assert response.status_code == 400, response.text
    assert "requires DPoP" in response.text


async def test_an_end_user_may_not_create_tokens(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    token = await _token(http, pw, world.user.email, "read write")
    response = await http.post(
        TOKENS, headers=_bearer(token), json={"token": {"client_id": pw.client.id, "scopes": ["read"]}}
    )
    _assert_problem(response, 403, "Forbidden", "only admins may create tokens")
    listed = (await http.get(TOKENS, headers=_bearer(token))).json()["tokens"]
    assert [t["token"] for t in listed] == [token[:10]]


@pytest.mark.parametrize(
    ("body", "status", "error", "words"),
    [
        (b"not json", 400, "invalid_request", "the body is not JSON that can be read"),
        (b'["token"]', 400, "invalid_request", 'the body must be {"token": {"client_id": ID'),
        (b'{"client_id": 1, "scopes": ["read"]}', 400, "invalid_request", 'the body must be {"token"'),
        (
            b'{"token": {"client_id": "web", "scopes": ["read"]}}',
            400,
            "invalid_request",
            "token.client_id must be the client's numeric id",
        ),
        (
            b'{"token": {"client_id": true, "scopes": ["read"]}}',
            400,
            "invalid_request",
            "token.client_id must be the client's numeric id",
        ),
        (b'{"token": {"client_id": CLIENT}}', 400, "invalid_request", "token.scopes must be a non-empty list"),
        (
            b'{"token": {"client_id": CLIENT, "scopes": []}}',
            400,
            "invalid_request",
            "token.scopes must be a non-empty list",
        ),
        (
            b'{"token": {"client_id": CLIENT, "scopes": "read"}}',
            400,
            "invalid_request",
            "token.scopes must be a non-empty list",
        ),
        (b'{"token": {"client_id": CLIENT, "scopes": ["bogus"]}}', 400, "invalid_request", "unknown scope: bogus"),
        (
            b'{"token": {"client_id": CLIENT, "scopes": ["read"], "expires_in": 299}}',
            400,
            "invalid_request",
            "expires_in must be between 300 and 172800 seconds",
        ),
        (
            b'{"token": {"client_id": CLIENT, "scopes": ["read"], "expires_in": 1.5}}',
            400,
            "invalid_request",
            "token.expires_in must be a whole number of seconds",
        ),
        (
            b'{"token": {"client_id": CLIENT, "scopes": ["read"], "refresh_token_expires_in": 86400}}',
            400,
            "invalid_request",
            "refresh_token_expires_in must be between 604800 and 7776000 seconds",
        ),
        (
            b'{"token": {"client_id": 999999999, "scopes": ["read"]}}',
            404,
            "RecordNotFound",
            "no client with id 999999999",
        ),
        # Past what a 64-bit id column holds: no such client, not an OverflowError (SQLite)
        # or NumericValueOutOfRange (PostgreSQL).
        *(
            (
                b'{"token": {"client_id": %d, "scopes": ["read"]}}' % n,
                404,
                "RecordNotFound",
                f"no client with id {n}",
            )
            for n in (2**63, 2**64 - 1)
        ),
        # Past 64 bits JSON numbers arrive as floats: not an id at all.
        (
            b'{"token": {"client_id": 18446744073709551616, "scopes": ["read"]}}',
            400,
            "invalid_request",
            "token.client_id must be the client's numeric id",
        ),
    ],
)
async def test_bad_creation_bodies_say_what_is_wrong(
    http: httpx.AsyncClient,
    world: World,
    pw: RegisteredClient,
    body: bytes,
    status: int,
    error: str,
    words: str,
) -> None:
    admin = await _token(http, pw, world.admin.email, "read write")
    content = body.replace(b"CLIENT", str(world.web.client.id).encode())
    response = await http.post(TOKENS, headers={**_bearer(admin), "Content-Type": "application/json"}, content=content)
    _assert_problem(response, status, error, words)
    listed = (await http.get(TOKENS, headers=_bearer(admin))).json()["tokens"]
    assert [t["token"] for t in listed] == [admin[:10]]


# --- Scopes -------------------------------------------------------------------------------------


async def test_reading_needs_read_or_users_read(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    for scope in ("read", "users:read", "users"):
        token = await _token(http, pw, world.user.email, scope)
        assert (await http.get(TOKENS, headers=_bearer(token))).status_code == 200, scope
    narrow = await _token(http, pw, world.user.email, "tickets:read")
    for path in (TOKENS, f"{TOKENS}/current"):
        response = await http.get(path, headers=_bearer(narrow))
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
        assert 'scope="users:read"' in response.headers["www-authenticate"]


async def test_creating_and_deleting_need_write(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    read_only = await _token(http, pw, world.admin.email, "read")
    created = await http.post(
        TOKENS, headers=_bearer(read_only), json={"token": {"client_id": pw.client.id, "scopes": ["read"]}}
    )
    assert created.status_code == 403
    assert created.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in created.headers["www-authenticate"]
    deleted = await http.delete(f"{TOKENS}/current", headers=_bearer(read_only))
    assert deleted.status_code == 403
    assert deleted.json()["error"] == "insufficient_scope"
    assert await _api_status(http, read_only) == 200


async def test_the_api_refuses_no_token_and_bad_tokens(http: httpx.AsyncClient, world: World) -> None:
    """RFC 6750 section 3.1."""
    anonymous = await http.get(TOKENS)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "Couldn't authenticate you"
    assert "error=" not in anonymous.headers["www-authenticate"]
    bad = await http.get(TOKENS, headers=_bearer("tsa_" + "z" * 43))
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_token"


# --- Deleting ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_delete_by_id_revokes_the_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, suffix: str
) -> None:
    caller = await _token(http, pw, world.user.email, "read write")
    victim = await _token(http, pw, world.user.email)
    victim_id = await _id_of(http, victim)
    response = await http.delete(f"{TOKENS}/{victim_id}{suffix}", headers=_bearer(caller))
    assert response.status_code == 204
    assert response.content == b""
    refused = await http.get("/api/v2/users/me", headers=_bearer(victim))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert await _api_status(http, caller) == 200
    assert (await http.get(f"{TOKENS}/{victim_id}", headers=_bearer(caller))).status_code == 404


async def test_delete_current_revokes_the_calling_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    caller = await _token(http, pw, world.user.email, "read write")
    response = await http.delete(f"{TOKENS}/current.json", headers=_bearer(caller))
    assert response.status_code == 204
    refused = await http.get("/api/v2/users/me", headers=_bearer(caller))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


async def test_delete_revokes_the_refresh_token_of_the_same_grant(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    admin = await _token(http, pw, world.admin.email, "read write")
    created = (
        await http.post(
            TOKENS, headers=_bearer(admin), json={"token": {"client_id": world.web.client.id, "scopes": ["read"]}}
        )
    ).json()["token"]
    assert (await http.delete(f"{TOKENS}/{created['id']}", headers=_bearer(admin))).status_code == 204
    refreshed = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "refresh_token", "refresh_token": created["refresh_token"]},
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


async def test_an_end_user_cannot_delete_another_users_token_but_an_admin_can(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    user = await _token(http, pw, world.user.email, "read write")
    admin = await _token(http, pw, world.admin.email, "read write")
    admin_id = await _id_of(http, admin)
    user_id = await _id_of(http, user)
    assert (await http.delete(f"{TOKENS}/{admin_id}", headers=_bearer(user))).status_code == 404
    assert await _api_status(http, admin) == 200
    assert (await http.delete(f"{TOKENS}/{user_id}", headers=_bearer(admin))).status_code == 204
    assert await _api_status(http, user) == 401


# --- Browser sessions ----------------------------------------------------------------------------


async def test_a_signed_in_browser_needs_the_csrf_header_to_delete(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    token = await _token(http, pw, world.user.email)
    token_id = await _id_of(http, token)
    await sign_in(http, world.user.email)
    listed = await http.get(TOKENS)
    assert listed.status_code == 200
    assert [t["token"] for t in listed.json()["tokens"]] == [token[:10]]
    refused = await http.delete(f"{TOKENS}/{token_id}")
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["description"]
    assert await _api_status(http, token) == 200
    authenticity_token = (await http.get("/api/v2/users/me")).json()["user"]["authenticity_token"]
    deleted = await http.delete(f"{TOKENS}/{token_id}", headers={"X-CSRF-Token": authenticity_token})
    assert deleted.status_code == 204
    assert await _api_status(http, token) == 401


# --- used_at ---------------------------------------------------------------------------------------


async def _used_at(stores: Stores, token: str) -> float | None:
    """The stored row's used_at, read from the database (not through a store's memo)."""
    found = await stores.db.fetch_one(token_columns.FIND_ACCESS, {"digest": secrets.digest(token)})
    assert found is not None
    return token_columns.access_of(found).used_at


async def test_used_at_is_recorded_but_not_rewritten_on_every_call(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    start = clock()
    token = await _token(http, pw, world.user.email)
    assert await _used_at(stores, token) is None
    assert await _api_status(http, token) == 200
    assert await _used_at(stores, token) == start
    clock.advance(30)
    assert await _api_status(http, token) == 200
    clock.advance(29)
    assert await _api_status(http, token) == 200
    assert await _used_at(stores, token) == start
    clock.advance(61)
    assert await _api_status(http, token) == 200
    assert await _used_at(stores, token) == start + 120
    shown = (await http.get(f"{TOKENS}/current", headers=_bearer(token))).json()["token"]
    assert shown["used_at"] == _iso(start + 120)


async def test_admin_filters_client_id_global_client_id_and_user_id(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    """INTERFACE.md section 6, "Third-party apps and tokens": Tokens API filters for admins,
    `all=true`, `client_id=ID`, `global_client_id=ID` (and `user_id`); a user's filters
    stay within their own tokens."""
    from tessera.management import tokens as token_rules

    global_app = await add_client(stores, None, clock(), redirect_uris=("https://g.example.com/cb",))
    via_global = await token_rules.create(
        stores,
        world.account,
        global_app.client,
        world.user,
        "read",
        clock(),
        keys=None,
        issuer=world.origin,  # type: ignore[arg-type]
    )
    admin = await _token(http, pw, world.admin.email)
    users = await _token(http, pw, world.user.email)

    by_client = await http.get(TOKENS, params={"client_id": str(pw.client.id)}, headers=_bearer(admin))
    assert [t["token"] for t in by_client.json()["tokens"]] == [admin[:10], users[:10]]
    by_global = await http.get(TOKENS, params={"global_client_id": str(global_app.client.id)}, headers=_bearer(admin))
    assert [t["id"] for t in by_global.json()["tokens"]] == [via_global.token.id]
    not_global = await http.get(TOKENS, params={"global_client_id": str(pw.client.id)}, headers=_bearer(admin))
    assert not_global.json()["tokens"] == []
    by_user = await http.get(TOKENS, params={"user_id": str(world.user.id)}, headers=_bearer(admin))
    assert {t["user_id"] for t in by_user.json()["tokens"]} == {world.user.id}
    assert len(by_user.json()["tokens"]) == 2

    own = await http.get(TOKENS, params={"client_id": str(pw.client.id)}, headers=_bearer(users))
    assert [t["token"] for t in own.json()["tokens"]] == [users[:10]]
    refused = await http.get(TOKENS, params={"user_id": str(world.admin.id)}, headers=_bearer(users))
    _assert_problem(refused, 403, "Forbidden", "only admins")
    bad = await http.get(TOKENS, params={"global_client_id": "x"}, headers=_bearer(admin))
    _assert_problem(bad, 400, "invalid_request", "global_client_id must be a global client's numeric id")


async def test_revoking_a_token_is_audited_without_the_token(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores
) -> None:
    """INTERFACE.md section 6, "Audit log": token revoked; no entry holds a token, whole or in part."""
    from tests.http.admin_support import audit_text

    users = await _token(http, pw, world.user.email, "read write")
    token_id = await _id_of(http, users)
    assert (await http.delete(f"{TOKENS}/{token_id}", headers=_bearer(users))).status_code == 204
    text = await audit_text(stores, world)
    assert f"token {token_id}" in text and "'revoke'" in text
    assert users[:10] not in text and users[4:14] not in text
