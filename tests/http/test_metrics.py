"""GET /metrics (INTERFACE.md section 9): "on the platform host, Prometheus text format,
when TESSERA_METRICS=1 (reachable only from loopback unless TESSERA_METRICS_TOKEN is set and
sent as a bearer token): requests and latency per endpoint, tokens issued per grant, errors
per OAuth error code, throttled attempts, database pool use."

The registry is the process's, shared by every app a test session builds: each test reads
the counters before and after, and checks the difference.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tessera.app import create_app
from tessera.settings import Settings
from tessera.storage.database import Database
from tests.support import World

pytestmark = pytest.mark.anyio

PLATFORM = "http://localhost"


def _client(settings: Settings, database: Database, base_url: str, address: str = "127.0.0.1") -> httpx.AsyncClient:
    app = create_app(settings, db=database)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@pytest.fixture
async def metered(settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """One app with metrics on, reached at the account host; `platform_get` scrapes it."""
    async with _client(settings.with_overrides(metrics=True), database, world.origin) as client:
        yield client


async def _scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = await client.get(PLATFORM + "/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_tokens_errors_requests_and_pool_use_are_counted(metered: httpx.AsyncClient, world: World) -> None:
    before = await _scrape(metered)
    granted = await metered.post(
        "/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert granted.status_code == 200, granted.text
    refused = await metered.post("/oauth/tokens", auth=world.machine.basic(), data={"grant_type": "password"})
    assert refused.status_code == 400, refused.text
    after = await _scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("tessera_tokens_issued_total", grant_type="client_credentials") == 1
    assert moved("tessera_oauth_errors_total", error=refused.json()["error"]) == 1
    # Per route template and status, with the latency observed for each request.
    # Per route template, method and status: the latency histogram's count is the requests.
    requests = "tessera_http_request_duration_seconds_count"
    assert moved(requests, route="/oauth/tokens", method="POST", status="200") == 1
    assert moved(requests, route="/oauth/tokens", method="POST", status="400") == 1
    assert moved("tessera_http_request_duration_seconds_sum", route="/oauth/tokens", method="POST", status="200") > 0
    assert _value(after, "tessera_database_connections") >= 1
    assert ("tessera_database_calls_in_flight", ()) in after


async def test_a_path_with_parameters_counts_under_its_route_template(metered: httpx.AsyncClient) -> None:
    """The route, not the path as sent: ids must not each become a series."""
    before = await _scrape(metered)
    await metered.get("/api/v2/users/12345")
    await metered.get("/no/such/path/42")
    after = await _scrape(metered)
    requests = "tessera_http_request_duration_seconds_count"
    templates = {dict(labels).get("route") for name, labels in after if name == requests}
    assert not any(route and "12345" in route for route in templates), templates
    assert not any(route and "/42" in route for route in templates), templates
    unmatched = (requests, (("method", "GET"), ("route", "unmatched"), ("status", "404")))
    assert after[unmatched] - before.get(unmatched, 0.0) == 1


async def test_metrics_are_served_from_loopback_only(settings: Settings, database: Database) -> None:
    async with _client(settings.with_overrides(metrics=True), database, PLATFORM, address="203.0.113.9") as remote:
        answer = await remote.get("/metrics")
    assert answer.status_code == 403, answer.text
    assert "TESSERA_METRICS_TOKEN" in answer.json()["description"]


async def test_with_a_token_every_scrape_must_send_it(settings: Settings, database: Database) -> None:
    on = settings.with_overrides(metrics=True, metrics_token="scrape-" + "s" * 32)
    async with _client(on, database, PLATFORM, address="203.0.113.9") as remote:
        assert (await remote.get("/metrics")).status_code == 401
        wrong = await remote.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        right = await remote.get("/metrics", headers={"Authorization": "Bearer scrape-" + "s" * 32})
        assert right.status_code == 200
        assert "tessera_http_request_duration_seconds_count" in right.text
    async with _client(on, database, PLATFORM) as local:  # loopback without the token: refused too
        assert (await local.get("/metrics")).status_code == 401


async def test_metrics_live_on_the_platform_host_only(metered: httpx.AsyncClient) -> None:
    assert (await metered.get("/metrics")).status_code == 404  # the account host


async def test_without_the_setting_metrics_are_not_found(settings: Settings, database: Database) -> None:
    async with _client(settings, database, PLATFORM) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_throttled_client_authentications_are_counted(metered: httpx.AsyncClient, world: World) -> None:
    """Section 9: "throttled attempts" — a secret guessed in a loop until the throttle refuses."""
    before = await _scrape(metered)
    statuses = []
    for _ in range(15):
        answer = await metered.post(
            "/oauth/tokens", auth=(world.machine.client_id, "tss_wrong"), data={"grant_type": "client_credentials"}
        )
        statuses.append(answer.status_code)
    assert 429 in statuses, statuses
    after = await _scrape(metered)
    throttled = "tessera_throttled_attempts_total"
    moved = _value(after, throttled, kind="client_authentication") - _value(
        before, throttled, kind="client_authentication"
    )
    assert moved == statuses.count(429)
