"""Hostile input answered with a well-formed 4xx, never a 500 or a traceback (INTERFACE.md
section 5, "Bad input"): non-ASCII CSRF tokens, NUL characters that PostgreSQL text cannot
hold, and a client that closes its connection halfway through its body.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from starlette.types import Message

from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, RegisteredClient, World, add_client, authorize_url, forms, sign_in

pytestmark = pytest.mark.anyio

NON_ASCII_TOKENS = ["é" * 64, "\u2603", "ünïcødé-" + "a" * 56]


@pytest.mark.parametrize("presented", NON_ASCII_TOKENS)
async def test_login_with_a_non_ascii_authenticity_token_is_refused_with_403(
    http: httpx.AsyncClient, world: World, presented: str
) -> None:
    """A CSRF token is compared as bytes: hmac.compare_digest refuses non-ASCII str."""
    page = await http.get("/access/login")
    fields = dict(forms(page.text)[-1].fields, email=world.user.email, password=PASSWORD)
    response = await http.post("/access/login", data=dict(fields, authenticity_token=presented))
    assert response.status_code == 403, response.text
    assert "expired" in response.text


@pytest.mark.parametrize("presented", NON_ASCII_TOKENS)
async def test_consent_with_a_non_ascii_authenticity_token_is_refused_with_403(
    http: httpx.AsyncClient, world: World, presented: str
) -> None:
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web))
    assert page.status_code == 200, page.text
    form = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
    response = await http.post(form.action, data=dict(form.fields, authenticity_token=presented, decision="allow"))
    assert response.status_code == 403, response.text
    assert "location" not in response.headers


async def test_api_write_with_a_non_ascii_csrf_header_is_refused_with_403(
    http: httpx.AsyncClient, world: World
) -> None:
    """A signed-in browser's X-CSRF-Token header arrives as latin-1 text: bytes >= 0x80
    become non-ASCII characters."""
    await sign_in(http, world.user.email)
    body = {"ticket": {"subject": "Help", "comment": {"body": "Please."}}}
    response = await http.post("/api/v2/tickets", json=body, headers={"X-CSRF-Token": b"\xe9\xff" * 32})
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "invalid_csrf_token"


# -- NUL in ticket text (PostgreSQL text cannot hold it) -------------------------------------


@pytest.fixture
async def ticket_auth(http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock) -> dict[str, str]:
    """An admin's bearer token with tickets:read and tickets:write."""
    pw: RegisteredClient = await add_client(stores, world.account, clock(), grant_types=("password",))
    response = await http.post(
        "/oauth/tokens",
        auth=pw.basic(),
        data={"grant_type": "password", "username": world.admin.email, "password": PASSWORD, "scope": "tickets"},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_an_api_form_body_past_the_field_limit_is_400(
    http: httpx.AsyncClient, ticket_auth: dict[str, str]
) -> None:
    """docs/reliability.md "Request limits": 100 form fields at most. The API looks through a
    form body for a misplaced access_token (INTERFACE.md section 4) before the handler reads
    it; 150 fields once made that look a 500 (found by tests/http/test_fuzz_every_endpoint.py)."""
    headers = {**ticket_auth, "Content-Type": "application/x-www-form-urlencoded"}
    response = await http.post("/api/v2/tickets", headers=headers, content=b"&".join([b"scope=read"] * 150))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert "Max number of fields exceeded" in response.json()["description"]


@pytest.mark.parametrize(
    ("ticket", "field"),
    [
        ({"subject": "Printer\u0000fire", "comment": {"body": "Smoke."}}, "ticket.subject"),
        ({"subject": "Printer", "comment": {"body": "Smoke\u0000everywhere"}}, "ticket.comment.body"),
        ({"subject": "Printer", "description": "\u0000"}, "ticket.description"),
    ],
)
async def test_a_new_ticket_holding_nul_is_refused_naming_the_field(
    http: httpx.AsyncClient, ticket_auth: dict[str, str], ticket: dict[str, Any], field: str
) -> None:
    response = await http.post("/api/v2/tickets", json={"ticket": ticket}, headers=ticket_auth)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["description"]
    assert "NUL" in response.json()["description"]


async def test_a_ticket_update_holding_nul_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, ticket_auth: dict[str, str]
) -> None:
    created = await http.post(
        "/api/v2/tickets", json={"ticket": {"subject": "Fine", "comment": {"body": "Ok."}}}, headers=ticket_auth
    )
    assert created.status_code == 201, created.text
    path = f"/api/v2/tickets/{created.json()['ticket']['id']}"
    response = await http.put(path, json={"ticket": {"subject": "bad\u0000"}}, headers=ticket_auth)
    assert response.status_code == 400, response.text
    assert "ticket.subject" in response.json()["description"]
    assert (await http.get(path, headers=ticket_auth)).json()["ticket"]["subject"] == "Fine"


# -- A client that sends half its body and closes ----------------------------------------------


async def _half_a_body(app: Any, world: World, path: str, content_type: str) -> list[Message]:
    """Drive the ASGI app as a server does when the peer closes mid-body: the first chunk,
    then http.disconnect. Returns what the app sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", f"{world.subdomain}.localhost".encode()),
            (b"content-type", content_type.encode()),
            (b"content-length", b"4000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    incoming: list[Message] = [
        {"type": "http.request", "body": b"grant_type=client_credentials&sco", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)  # an unhandled error would propagate here, as to uvicorn
    return sent


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/oauth/tokens", "application/x-www-form-urlencoded"),
        ("/access/login", "application/x-www-form-urlencoded"),
        ("/oauth/revoke", "application/x-www-form-urlencoded"),
    ],
)
async def test_a_client_that_closes_mid_body_is_neither_a_500_nor_a_traceback(
    app: Any, world: World, caplog: pytest.LogCaptureFixture, path: str, content_type: str
) -> None:
    with caplog.at_level(logging.INFO):
        sent = await _half_a_body(app, world, path, content_type)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert all(status < 500 for status in statuses), statuses
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/oauth/tokens", "application/json"),
        ("GET", "/oauth/par", "application/json"),
        ("PUT", "/oauth/revoke", "application/json"),
        ("PUT", "/oauth/authorizations/new", "text/html"),
        ("DELETE", "/access/login", "text/html"),
    ],
)
async def test_a_method_the_address_does_not_take_is_405_with_allow(
    http: httpx.AsyncClient, world: World, method: str, path: str, accept: str
) -> None:
    """RFC 9110 section 15.5.6: "The origin server MUST generate an Allow header field in a
    405 response containing a list of the target resource's currently supported methods"
    (for the JSON answers of the endpoints and the pages alike)."""
    response = await http.request(method, path, headers={"Accept": accept})
    assert response.status_code == 405
    allowed = {name.strip() for name in response.headers["allow"].split(",")}
    assert method not in allowed
    assert allowed & {"GET", "POST"}


@pytest.mark.parametrize(
    ("method", "path", "takes"),
    [
        ("PATCH", "/api/v2/oauth/clients/1", {"GET", "HEAD", "PUT", "DELETE"}),
        ("OPTIONS", "/api/v2/oauth/clients/1.json", {"GET", "HEAD", "PUT", "DELETE"}),
        ("PATCH", "/api/v2/tickets/1", {"GET", "HEAD", "PUT", "DELETE"}),
        ("PUT", "/api/v2/tickets", {"GET", "HEAD", "POST"}),
        ("POST", "/api/v2/oauth/tokens/1", {"GET", "HEAD", "DELETE"}),
        ("PATCH", "/admin/clients/1", {"GET", "HEAD", "POST"}),
        # A path written out in full is not a value for a later route's parameter: PUT on
        # /users/me is no update of a user whose id is "me".
        ("PUT", "/api/v2/users/me", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/api/v2/users/me.json", {"GET", "HEAD", "OPTIONS"}),
    ],
)
async def test_the_allow_header_names_every_method_the_path_takes(
    http: httpx.AsyncClient, world: World, method: str, path: str, takes: set[str]
) -> None:
    """RFC 9110 section 15.5.6: Allow lists the target resource's supported methods, all of
    them: a path served by several routes (GET and PUT, say) named only the first one's."""
    response = await http.request(method, path)
    assert response.status_code == 405, response.text
    assert {name.strip() for name in response.headers["allow"].split(",")} == takes
