"""The audit log API (INTERFACE.md section 6, "Audit log"): GET /api/v2/audit_logs(.json)
and /{id}(.json), newest first, filters filter[action], filter[actor_id],
filter[source_type], filter[created_at][]=START&END, cursor pagination; admins only with
auditlogs:read (or read). No entry holds a secret, whole or in part.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.admin_support import agent, assert_bad_request, assert_forbidden, assert_not_found, bearer
from tests.support import Clock, World, make_world

pytestmark = pytest.mark.anyio

LOGS = "/api/v2/audit_logs"
CLIENTS = "/api/v2/oauth/clients"


async def _changes(http: httpx.AsyncClient, world: World, admin: dict[str, str]) -> str:
    """Create a client, rename it, regenerate its secret, delete it; the secrets seen."""
    made = await http.post(
        CLIENTS,
        json={"client": {"name": "Audited", "identifier": "audited", "redirect_uri": ["https://a.example.com/cb"]}},
        headers=admin,
    )
    client = made.json()["client"]
    path = f"{CLIENTS}/{client['id']}"
    await http.put(path, json={"client": {"name": "Audited 2"}}, headers=admin)
    regenerated = (await http.put(f"{path}/generate_secret", headers=admin)).json()["client"]["secret"]
    await http.delete(path, headers=admin)
    return f"{client['secret']} {regenerated}"


@pytest.mark.parametrize("suffix", ["", ".json"])
async def test_every_change_is_listed_newest_first_without_secrets(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock, suffix: str
) -> None:
    admin = await bearer(stores, world, world.admin, "read write", clock)
    seen_secrets = await _changes(http, world, admin)
    response = await http.get(LOGS + suffix, params={"filter[source_type]": "oauth_client"}, headers=admin)
    assert response.status_code == 200, response.text
    logs = response.json()["audit_logs"]
    assert [log["action"] for log in logs[:4]] == ["destroy", "regenerate_secret", "update", "create"]
    assert {log["actor_id"] for log in logs[:4]} == {world.admin.id}
    assert logs[1]["source_label"] == "Audited 2 (audited)"
    assert set(logs[0]) == {
        "id", "url", "actor_id", "actor_name", "source_id", "source_type", "source_label",
        "action", "change_description", "ip_address", "created_at",
    }  # fmt: skip
    everything = (await http.get(LOGS, params={"page[size]": "100"}, headers=admin)).text
    for secret in seen_secrets.split():
        assert secret not in everything and secret[:9] not in everything
    shown = await http.get(f"{LOGS}/{logs[0]['id']}{suffix}", headers=admin)
    assert shown.json() == {"audit_log": logs[0]}
    assert_not_found(await http.get(f"{LOGS}/999999999", headers=admin))


async def test_filters_and_cursor(http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock) -> None:
    admin = await bearer(stores, world, world.admin, "auditlogs:read clients:write", clock)
    await _changes(http, world, admin)
    updates = (await http.get(LOGS, params={"filter[action]": "update"}, headers=admin)).json()["audit_logs"]
    assert [log["action"] for log in updates] == ["update"]
    mine = (await http.get(LOGS, params={"filter[actor_id]": str(world.admin.id)}, headers=admin)).json()
    assert len(mine["audit_logs"]) == 4
    now = datetime.fromtimestamp(clock(), UTC)
    window = [
        ("filter[created_at][]", (now.replace(year=now.year - 1)).isoformat()),
        ("filter[created_at][]", now.isoformat()),
    ]
    within = (await http.get(LOGS, params=[*window, ("filter[action]", "create")], headers=admin)).json()
    assert len(within["audit_logs"]) >= 1
    before = [("filter[created_at][]", "2001-01-01T00:00:00Z"), ("filter[created_at][]", "2001-01-02T00:00:00Z")]
    assert (await http.get(LOGS, params=before, headers=admin)).json()["audit_logs"] == []
    seen: list[int] = []
    url: str | None = f"{world.origin}{LOGS}.json?filter[actor_id]={world.admin.id}&page[size]=3"
    while url is not None:
        page = (await http.get(url, headers=admin)).json()
        seen += [log["id"] for log in page["audit_logs"]]
        url = page["links"]["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == 4
    for bad in (
        {"filter[action]": "explode"},
        {"filter[source_type]": "planet"},
        {"filter[actor_id]": "me"},
        {"filter[actor_id]": "0"},  # ids start at 1 (the OpenAPI document says so)
        {"filter[created_at][]": "yesterday"},
        {"page[size]": "0"},
    ):
        assert_bad_request(await http.get(LOGS, params=bad, headers=admin))
    assert_bad_request(
        await http.get(
            LOGS, params=[("filter[created_at][]", "2001-01-01"), ("filter[created_at][]", "soon")], headers=admin
        )
    )
    # A filter given twice is refused, not narrowed to its last value.
    twice = [("filter[action]", "create"), ("filter[action]", "update")]
    refused = await http.get(LOGS, params=twice, headers=admin)
    assert_bad_request(refused)
    assert "once" in refused.text


async def test_an_end_given_to_the_second_includes_that_second(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 6 / docs/administration.md: both ends included. created_at is
    shown to the second, and an entry's own time as both ends finds it."""
    admin = await bearer(stores, world, world.admin, "auditlogs:read clients:write", clock)
    await _changes(http, world, admin)
    newest = (await http.get(LOGS, headers=admin)).json()["audit_logs"][0]
    exact = [("filter[created_at][]", newest["created_at"])] * 2
    found = (await http.get(LOGS, params=exact, headers=admin)).json()["audit_logs"]
    assert newest["id"] in [log["id"] for log in found]


async def test_only_admins_of_the_account_with_auditlogs_read(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    for user in (world.user, await agent(stores, world, clock)):
        assert_forbidden(await http.get(LOGS, headers=await bearer(stores, world, user, "read", clock)))
    wrong_scope = await http.get(LOGS, headers=await bearer(stores, world, world.admin, "users:read", clock))
    assert wrong_scope.status_code == 403 and wrong_scope.json()["error"] == "Forbidden"
    other = await make_world(stores, clock)
    assert (await http.get(LOGS, headers=await bearer(stores, other, other.admin, "read", clock))).status_code == 401
    other_admin = await bearer(stores, other, other.admin, "read", clock)
    other_logs = await http.get(LOGS, headers={**other_admin, "Host": f"{other.subdomain}.localhost"})
    ids = {log["id"] for log in other_logs.json()["audit_logs"]}
    mine = await http.get(LOGS, headers=await bearer(stores, world, world.admin, "read", clock))
    assert ids.isdisjoint({log["id"] for log in mine.json()["audit_logs"]})
