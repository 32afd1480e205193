"""Setting a client's require_par (RFC 9126 section 6, client metadata
require_pushed_authorization_requests; INTERFACE.md section 10): the clients API, the
console's client form, dynamic registration (RFC 7591) and the CLI all set and show it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tessera.management import accounts
from tessera.storage.stores import Stores
from tests.cli.test_cli import ADMIN, PASSWORD, client_args, only_json, run, succeeded
from tests.http.admin_support import bearer
from tests.http.test_admin_console import _as_admin, _client_form, _create_client, _csrf
from tests.support import Clock, World

FIELD = "require_pushed_authorization_requests"
CLIENTS = "/api/v2/oauth/clients"


@pytest.mark.anyio
async def test_the_clients_api_sets_and_shows_it(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    admin = await bearer(stores, world, world.admin, "read write", clock)
    body = {"client": {"name": "Bank", "identifier": "bank", "redirect_uri": ["https://bank.example/cb"], FIELD: True}}
    created = await http.post(CLIENTS, json=body, headers=admin)
    assert created.status_code == 201, created.text
    client = created.json()["client"]
    assert client[FIELD] is True
    off = await http.put(f"{CLIENTS}/{client['id']}", json={"client": {FIELD: False}}, headers=admin)
    assert off.status_code == 200 and off.json()["client"][FIELD] is False
    bad = await http.put(f"{CLIENTS}/{client['id']}", json={"client": {FIELD: "yes"}}, headers=admin)
    assert bad.status_code in (400, 422)
    shown = await http.get(f"{CLIENTS}/{world.web.client.id}", headers=admin)
    assert shown.json()["client"][FIELD] is False
    schema = (await http.get("/api/v2/openapi.json")).json()
    assert FIELD in str(schema)


@pytest.mark.anyio
async def test_the_console_form_has_a_checkbox(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await _as_admin(http, world)
    created = await _create_client(http, **{FIELD: "1"})
    assert created.status_code == 303, created.text
    client = await stores.clients.find(world.account.id, "reporting")
    assert client is not None and client.require_par is True
    page = await http.get(f"/admin/clients/{client.id}")
    assert f'name="{FIELD}" value="1"' in page.text and "checked" in page.text
    # Unticked on edit: a checkbox that is not sent is off.
    token = _csrf(page.text)
    edited = await http.post(f"/admin/clients/{client.id}", data=_client_form(token))
    assert edited.status_code == 303, edited.text
    again = await stores.clients.get_own(world.account.id, client.id)  # not find's memo
    assert again is not None and again.require_par is False


@pytest.mark.anyio
async def test_dynamic_registration_takes_the_metadata(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    await accounts.set_registration_policy(stores, world.subdomain, "open")
    body = {"redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "none", FIELD: True}
    response = await http.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()[FIELD] is True
    client = await stores.clients.find(world.account.id, response.json()["client_id"])
    assert client is not None and client.require_par is True
    refused = await http.post("/oauth/register", json={**body, FIELD: "yes"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata"


def test_the_cli_sets_it_on_create_and_update(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tessera.db'}"
    succeeded(run(url, "accounts", "create", "acme"))
    succeeded(
        run(url, "users", "create", "--account", "acme", "--email", ADMIN, "--password", PASSWORD, "--role", "admin")
    )
    made = only_json(
        run(url, *client_args("bank", "--redirect-uri", "https://bank.example/cb", "--require-par", "--json"))
    )
    assert made["client"][FIELD] is True
    changed = only_json(run(url, "clients", "update", "--account", "acme", "bank", "--no-require-par", "--json"))
    assert changed["client"][FIELD] is False
