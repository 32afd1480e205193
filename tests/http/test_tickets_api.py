"""The Tickets API (INTERFACE.md section 4: "a small protected resource, to show scopes at
work"), with RFC 6750 section 3.1's insufficient_scope where a token's scopes fall short."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.management import users
from tessera.model import User
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, RegisteredClient, World, add_client, make_world, sign_in

pytestmark = pytest.mark.anyio

TICKETS = "/api/v2/tickets"
NEW = {"ticket": {"subject": "My printer is on fire", "comment": {"body": "The smoke is very colorful."}}}


@pytest.fixture
async def pw(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A client allowed the password grant, to mint tokens with any scopes quickly."""
    return await add_client(stores, world.account, clock(), name="Password App", grant_types=("password",))


@pytest.fixture
async def agent(stores: Stores, world: World, clock: Clock) -> User:
    return await users.create(stores, world.account, "agent@example.com", PASSWORD, "agent", "Alan Agent", clock())


async def _token(http: httpx.AsyncClient, client: RegisteredClient, email: str, scope: str) -> dict[str, str]:
    response = await http.post(
        "/oauth/tokens",
        auth=client.basic(),
        data={"grant_type": "password", "username": email, "password": PASSWORD, "scope": scope},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _create(http: httpx.AsyncClient, auth: dict[str, str], subject: str = "Help") -> dict[str, Any]:
    body = {"ticket": {"subject": subject, "comment": {"body": "Please help."}}}
    response = await http.post(TICKETS, json=body, headers=auth)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()["ticket"]
    return ticket


def _assert_problem(response: httpx.Response, status: int, error: str, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert words in response.json()["description"], response.json()["description"]


async def test_an_end_user_opens_a_ticket_and_reads_it_back(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    auth = await _token(http, pw, world.user.email, "tickets:read tickets:write")
    created = await http.post(f"{TICKETS}.json", json=NEW, headers=auth)
    assert created.status_code == 201, created.text
    ticket = created.json()["ticket"]
    assert created.headers["location"] == f"{world.origin}/api/v2/tickets/{ticket['id']}.json"
    assert ticket["url"] == created.headers["location"]
    assert ticket["subject"] == "My printer is on fire"
    assert ticket["description"] == "The smoke is very colorful."
    assert (ticket["status"], ticket["priority"]) == ("new", None)
    assert ticket["requester_id"] == ticket["submitter_id"] == world.user.id
    assert ticket["created_at"].endswith("Z")
    for path in (f"{TICKETS}/{ticket['id']}", f"{TICKETS}/{ticket['id']}.json"):
        shown = await http.get(path, headers=auth)
        assert shown.status_code == 200, shown.text
        assert shown.json() == {"ticket": ticket}


async def test_scopes_at_work(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    """RFC 6750 section 3.1: a token without the needed scope gets 403 insufficient_scope,
    and the challenge names the scope that would do."""
    reader = await _token(http, pw, world.user.email, "tickets:read")
    assert (await http.get(TICKETS, headers=reader)).status_code == 200
    refused = await http.post(TICKETS, json=NEW, headers=reader)
    _assert_problem(refused, 403, "insufficient_scope", "tickets:write")
    assert 'scope="tickets:write"' in refused.headers["www-authenticate"]

    users_only = await _token(http, pw, world.user.email, "users:read")
    refused = await http.get(TICKETS, headers=users_only)
    _assert_problem(refused, 403, "insufficient_scope", "tickets:read")

    # INTERFACE.md section 4: `read` covers every *:read, a bare resource means read and write.
    assert (await http.get(TICKETS, headers=await _token(http, pw, world.user.email, "read"))).status_code == 200
    both = await _token(http, pw, world.user.email, "tickets")
    await _create(http, both)
    assert (await http.get(TICKETS, headers=both)).status_code == 200


async def test_without_credentials_the_answer_is_a_bare_bearer_challenge(http: httpx.AsyncClient) -> None:
    response = await http.get(TICKETS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer realm=")
    assert "error=" not in response.headers["www-authenticate"]  # RFC 6750 section 3


async def test_end_users_see_their_own_tickets_agents_see_all(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, agent: User
) -> None:
    user = await _token(http, pw, world.user.email, "tickets")
    admin = await _token(http, pw, world.admin.email, "tickets")
    mine = await _create(http, user, "mine")
    theirs = await _create(http, admin, "the admin's")

    listed = (await http.get(TICKETS, headers=user)).json()["tickets"]
    assert [t["id"] for t in listed] == [mine["id"]]
    _assert_problem(await http.get(f"{TICKETS}/{theirs['id']}", headers=user), 404, "RecordNotFound", "no ticket")

    by_agent = await _token(http, pw, agent.email, "tickets:read")
    listed = (await http.get(TICKETS, headers=by_agent)).json()["tickets"]
    assert [t["id"] for t in listed] == [mine["id"], theirs["id"]]


async def test_another_account_s_tickets_are_not_found(
    app: Any, http: httpx.AsyncClient, world: World, pw: RegisteredClient, stores: Stores, clock: Clock
) -> None:
    other = await make_world(stores, clock)
    other_pw = await add_client(stores, other.account, clock(), grant_types=("password",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=other.origin) as elsewhere:
        theirs = await _create(elsewhere, await _token(elsewhere, other_pw, other.admin.email, "tickets"))
    admin = await _token(http, pw, world.admin.email, "tickets")
    _assert_problem(await http.get(f"{TICKETS}/{theirs['id']}", headers=admin), 404, "RecordNotFound", "no ticket")
    assert (await http.get(TICKETS, headers=admin)).json()["tickets"] == []


async def test_agents_update_and_delete_end_users_do_not(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, agent: User
) -> None:
    user = await _token(http, pw, world.user.email, "tickets")
    ticket = await _create(http, user)
    path = f"{TICKETS}/{ticket['id']}.json"
    change = {"ticket": {"status": "solved"}}
    _assert_problem(await http.put(path, json=change, headers=user), 403, "Forbidden", "agents and admins")
    _assert_problem(await http.delete(path, headers=user), 403, "Forbidden", "agents and admins")

    by_agent = await _token(http, pw, agent.email, "tickets")
    updated = await http.put(
        path, json={"ticket": {"status": "open", "priority": "high", "subject": "Fire"}}, headers=by_agent
    )
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()["ticket"][k] for k in ("status", "priority", "subject")} == {
        "status": "open",
        "priority": "high",
        "subject": "Fire",
    }
    assert (await http.get(path, headers=user)).json()["ticket"]["status"] == "open"

    assert (await http.delete(path, headers=by_agent)).status_code == 204
    _assert_problem(await http.get(path, headers=by_agent), 404, "RecordNotFound", "no ticket")
    _assert_problem(await http.delete(path, headers=by_agent), 404, "RecordNotFound", "no ticket")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON that can be read"),
        (b'{"subject": "no wrapper"}', "ticket member"),
        (b'{"ticket": {"comment": {"body": "x"}}}', "ticket.subject must be a non-empty string"),
        (b'{"ticket": {"subject": "  ", "comment": {"body": "x"}}}', "ticket.subject must be a non-empty string"),
        (b'{"ticket": {"subject": "x"}}', "ticket.comment.body"),
        (b'{"ticket": {"subject": "x", "comment": {"body": 5}}}', "ticket.comment.body"),
        (b'{"ticket": {"subject": "x", "comment": {"body": "y"}, "priority": "asap"}}', "low, normal, high, urgent"),
        (('{"ticket": {"subject": "' + "x" * 256 + '", "description": "y"}}').encode(), "at most 255"),
    ],
)
async def test_a_bad_new_ticket_says_what_to_fix(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, body: bytes, words: str
) -> None:
    auth = await _token(http, pw, world.user.email, "tickets")
    response = await http.post(TICKETS, content=body, headers={**auth, "Content-Type": "application/json"})
    _assert_problem(response, 400, "invalid_request", words)
    assert (await http.get(TICKETS, headers=auth)).json()["tickets"] == []  # nothing half-written


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ticket": {"status": "done"}}, "new, open, pending, hold, solved, closed"),
        ({"ticket": {"status": None}}, "ticket.status must be one of"),
        ({"ticket": {}}, "nothing to change"),
        ({"ticket": {"description": "rewritten"}}, "nothing to change"),
    ],
)
async def test_a_bad_update_says_what_to_fix(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient, change: dict[str, Any], words: str
) -> None:
    admin = await _token(http, pw, world.admin.email, "tickets")
    ticket = await _create(http, admin)
    response = await http.put(f"{TICKETS}/{ticket['id']}", json=change, headers=admin)
    _assert_problem(response, 400, "invalid_request", words)
    assert (await http.get(f"{TICKETS}/{ticket['id']}", headers=admin)).json()["ticket"] == ticket


async def test_a_ticket_id_that_is_not_a_number_is_not_found(
    http: httpx.AsyncClient, world: World, pw: RegisteredClient
) -> None:
    admin = await _token(http, pw, world.admin.email, "tickets")
    _assert_problem(await http.get(f"{TICKETS}/abc", headers=admin), 404, "RecordNotFound", "'abc'")


async def test_listings_page_with_cursors(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> None:
    admin = await _token(http, pw, world.admin.email, "tickets")
    ids = [(await _create(http, admin, f"t{i}"))["id"] for i in range(3)]
    first = (await http.get(TICKETS, params={"page[size]": "2"}, headers=admin)).json()
    assert [t["id"] for t in first["tickets"]] == ids[:2]
    assert first["meta"]["has_more"] is True
    following = first["links"]["next"]
    assert following.startswith(f"{world.origin}/api/v2/tickets.json?")
    second = (await http.get(following, headers=admin)).json()
    assert [t["id"] for t in second["tickets"]] == ids[2:]
    assert second["meta"]["has_more"] is False
    assert second["links"]["next"] is None
    for bad in ({"page[size]": "0"}, {"page[size]": "101"}, {"page[after]": "!!"}):
        _assert_problem(await http.get(TICKETS, params=bad, headers=admin), 400, "invalid_request", "page[")


async def test_a_signed_in_browser_needs_the_csrf_header_to_open_a_ticket(
    http: httpx.AsyncClient, world: World
) -> None:
    assert (await sign_in(http, world.user.email)).status_code in (302, 303)
    refused = await http.post(TICKETS, json=NEW)
    assert refused.status_code == 403
    assert refused.json()["error"] == "invalid_csrf_token"
    csrf = (await http.get("/api/v2/users/me")).json()["user"]["authenticity_token"]
    created = await http.post(TICKETS, json=NEW, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    assert created.json()["ticket"]["requester_id"] == world.user.id


# --- Bad input never gets a 500 -----------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
ticket_fields = st.dictionaries(
    st.sampled_from(("subject", "comment", "description", "status", "priority")) | st.text(max_size=8),
    json_values | st.fixed_dictionaries({"body": json_values}) | st.sampled_from(("open", "high", "x")),
    max_size=5,
)


@pytest.fixture
async def fuzz_target(http: httpx.AsyncClient, world: World, pw: RegisteredClient) -> tuple[dict[str, str], int]:
    """An admin's token and a ticket to update, made once for all of hypothesis' examples."""
    auth = await _token(http, pw, world.admin.email, "tickets")
    return auth, (await _create(http, auth))["id"]


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=st.dictionaries(st.just("ticket") | st.text(max_size=8), ticket_fields | json_values, max_size=2)
    | json_values,
    method=st.sampled_from(("POST", "PUT")),
)
async def test_any_json_body_gets_a_success_or_a_400_that_says_what_to_fix(
    http: httpx.AsyncClient, fuzz_target: tuple[dict[str, str], int], document: Any, method: str
) -> None:
    auth, ticket_id = fuzz_target
    path = TICKETS if method == "POST" else f"{TICKETS}/{ticket_id}"
    response = await http.request(method, path, json=document, headers=auth)
    if response.status_code in (200, 201):
        assert set(response.json()["ticket"]) >= {"id", "subject", "status", "priority"}
        return
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["description"]
