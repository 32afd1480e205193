"""Throttles, INTERFACE.md section 9: failed sign-ins per account+email and per source
address, failed client authentication per client and per source address, counted in the
database in one statement (no burst passes before the counter moves), refused with 429 and
Retry-After; TESSERA_THROTTLE=0 turns them off. Limits: docs/reliability.md, "Throttles".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from tessera.app import create_app
from tessera.settings import Settings
from tessera.storage import schema
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, RegisteredClient, World, forms

pytestmark = pytest.mark.anyio

LOGIN = "/access/login"
TOKEN = "/oauth/tokens"
REVOKE = "/oauth/revoke"
INTROSPECT = "/oauth/introspect"


async def login_fields(http: httpx.AsyncClient) -> dict[str, str]:
    page = await http.get(LOGIN)
    assert page.status_code == 200
    return dict(forms(page.text)[-1].fields)


async def sign_in(http: httpx.AsyncClient, email: str, password: str, fields: dict[str, str] | None = None) -> int:
    fields = fields if fields is not None else await login_fields(http)
    return (await http.post(LOGIN, data=dict(fields, email=email, password=password))).status_code


async def client_credentials(http: httpx.AsyncClient, client: RegisteredClient, secret: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "scope": "read"}
    return await http.post(TOKEN, auth=(client.client_id, secret), data=data)


def too_many(response: httpx.Response) -> str:
    """The section 9 answer at an OAuth endpoint: 429, Retry-After, too_many_requests."""
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["error"] == "too_many_requests", body
    return str(body["error_description"])


@pytest.fixture
async def unthrottled(database: Database, settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_overrides(throttle=False), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


# --- Sign-in -------------------------------------------------------------------------------------


async def test_a_burst_of_wrong_passwords_gets_at_most_the_limit_of_401s(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """The issue's race: 100 concurrent wrong passwords answered 76 x 401 before the first 429."""
    fields = await login_fields(http)
    statuses = await asyncio.gather(*(sign_in(http, world.user.email, "wrong", fields) for _ in range(50)))
    counted = Counter(statuses)
    assert counted[401] == settings.throttle_sign_in_per_email, counted
    assert counted[429] == 50 - settings.throttle_sign_in_per_email, counted
    # And the right password, just after the burst, is refused too.
    assert await sign_in(http, world.user.email, PASSWORD) == 429


async def test_a_right_password_inside_a_burst_is_refused_once_the_limit_is_spent(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    fields = await login_fields(http)
    wrong = [sign_in(http, world.user.email, "wrong", fields) for _ in range(settings.throttle_sign_in_per_email)]
    await asyncio.gather(*wrong)
    burst = await asyncio.gather(
        *(sign_in(http, world.user.email, PASSWORD if i % 5 == 0 else "wrong", fields) for i in range(30))
    )
    assert set(burst) == {429}


async def test_the_source_address_is_limited_across_emails(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """The issue: 40 e-mails from one address answered 40 x 401."""
    limit = settings.throttle_sign_in_per_address
    assert limit == 30
    for i in range(limit):
        assert await sign_in(http, f"nobody{i}@example.com", "wrong") == 401
    page = await http.post(LOGIN, data=dict(await login_fields(http), email="another@example.com", password="x"))
    assert page.status_code == 429
    assert 1 <= int(page.headers["retry-after"]) <= settings.throttle_backoff
    assert "try again in" in page.text
    # Throttled from here even with a right password of a user never guessed at.
    assert await sign_in(http, world.admin.email, PASSWORD) == 429


async def test_refused_attempts_do_not_use_up_the_address(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """docs/reliability.md, Throttles: "A refused attempt is not counted". One email under
    its wait, tried again and again from an address, must not lock out the others there."""
    for _ in range(settings.throttle_sign_in_per_email):
        assert await sign_in(http, world.user.email, "wrong") == 401
    for _ in range(settings.throttle_sign_in_per_address + 5):
        assert await sign_in(http, world.user.email, "wrong") == 429
    # The address counted ten failures, not forty-five: another user still signs in.
    assert await sign_in(http, world.admin.email, PASSWORD) == 303


async def test_a_right_password_does_not_use_up_the_address(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """Many people sign in from behind one address: only failures count against it."""
    for _ in range(settings.throttle_sign_in_per_address + 5):
        assert await sign_in(http, world.user.email, PASSWORD) == 303


async def test_a_right_password_clears_the_email(http: httpx.AsyncClient, world: World, settings: Settings) -> None:
    for _ in range(2):
        for _ in range(settings.throttle_sign_in_per_email - 1):
            assert await sign_in(http, world.user.email, "wrong") == 401
        assert await sign_in(http, world.user.email, PASSWORD) == 303


async def test_waits_grow_past_the_limit_and_the_window_lifts_them(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    """Backoff, not a lock: after the limit the first wait is TESSERA_THROTTLE_BACKOFF, then
    each further failure doubles it; a window without failures starts afresh."""
    for _ in range(settings.throttle_sign_in_per_email):
        assert await sign_in(http, world.user.email, "wrong") == 401
    fields = await login_fields(http)
    first = await http.post(LOGIN, data=dict(fields, email=world.user.email, password=PASSWORD))
    assert first.status_code == 429 and 59 <= int(first.headers["retry-after"]) <= 60
    clock.advance(61)
    assert await sign_in(http, world.user.email, "wrong") == 401  # let through after the wait
    second = await http.post(LOGIN, data=dict(fields, email=world.user.email, password=PASSWORD))
    assert second.status_code == 429 and 119 <= int(second.headers["retry-after"]) <= 120
    clock.advance(settings.throttle_window + 1)
    assert await sign_in(http, world.user.email, PASSWORD) == 303


async def test_an_admin_setting_the_password_lifts_the_throttle(
    http: httpx.AsyncClient, world: World, settings: Settings, stores: Stores, clock: Clock
) -> None:
    from tessera.management import audit_events, users

    for _ in range(settings.throttle_sign_in_per_email):
        assert await sign_in(http, world.user.email, "wrong") == 401
    assert await sign_in(http, world.user.email, PASSWORD) == 429
    actor = audit_events.Actor(world.admin.id, world.admin.name, "127.0.0.1")
    await users.set_password(stores, world.account, world.user.id, "a new password 1", actor, clock())
    assert await sign_in(http, world.user.email, "a new password 1") == 303


async def test_throttle_0_turns_the_sign_in_throttles_off(unthrottled: httpx.AsyncClient, world: World) -> None:
    fields = await login_fields(unthrottled)
    statuses = await asyncio.gather(*(sign_in(unthrottled, world.user.email, "wrong", fields) for _ in range(40)))
    assert set(statuses) == {401}
    assert await sign_in(unthrottled, world.user.email, PASSWORD) == 303


# --- Client authentication -------------------------------------------------------------------------


async def test_a_client_secret_guessed_in_a_loop_gets_429_before_20_tries(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    statuses = []
    for i in range(20):
        response = await client_credentials(http, world.machine, f"guess-{i}")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert "too many failed client authentications" in too_many(response)
            break
    assert statuses == [401] * settings.throttle_client_auth_per_client + [429]
    # While it waits, even the right secret is refused: the throttle is no oracle.
    too_many(await client_credentials(http, world.machine, world.machine.secret or ""))


async def test_one_clients_throttle_does_not_block_another(http: httpx.AsyncClient, world: World) -> None:
    for i in range(15):
        await client_credentials(http, world.machine, f"guess-{i}")
    too_many(await client_credentials(http, world.machine, "guess"))
    assert (await http.post(TOKEN, auth=world.web.basic(), data={"grant_type": "client_credentials"})).status_code in (
        400,
        200,
    )  # web may not use this grant: what matters is that it is not 401 or 429
    assert (await http.post(INTROSPECT, auth=world.web.basic(), data={"token": "nothing"})).json() == {"active": False}


async def test_a_burst_of_wrong_secrets_gets_at_most_the_limit_of_401s(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    statuses = await asyncio.gather(*(client_credentials(http, world.machine, f"g{i}") for i in range(40)))
    counted = Counter(response.status_code for response in statuses)
    assert counted == {
        401: settings.throttle_client_auth_per_client,
        429: 40 - settings.throttle_client_auth_per_client,
    }


@pytest.mark.parametrize("path", [REVOKE, INTROSPECT])
async def test_revocation_and_introspection_count_failures_too(
    http: httpx.AsyncClient, world: World, settings: Settings, path: str
) -> None:
    for _ in range(settings.throttle_client_auth_per_client):
        assert (await http.post(path, auth=(world.web.client_id, "guess"), data={"token": "x"})).status_code == 401
    too_many(await http.post(path, auth=(world.web.client_id, "guess"), data={"token": "x"}))


async def test_the_source_address_is_limited_across_client_ids(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    for i in range(settings.throttle_client_auth_per_address):
        response = await http.post(TOKEN, auth=(f"nobody-{i}", "guess"), data={"grant_type": "client_credentials"})
        assert response.status_code == 401
    too_many(await http.post(TOKEN, auth=(world.machine.client_id, "guess"), data={"grant_type": "client_credentials"}))


async def test_the_window_passing_lifts_a_client_throttle(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    for i in range(settings.throttle_client_auth_per_client + 1):
        await client_credentials(http, world.machine, f"guess-{i}")
    too_many(await client_credentials(http, world.machine, world.machine.secret or ""))
    clock.advance(settings.throttle_window + 1)
    lifted = await client_credentials(http, world.machine, world.machine.secret or "")
    assert lifted.status_code == 200, lifted.text


async def test_successful_client_authentication_writes_no_counter(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """The hot path: only failures are counted."""
    for _ in range(5):
        assert (await client_credentials(http, world.machine, world.machine.secret or "")).status_code == 200

    def rows(conn: sa.Connection) -> int:
        mine = schema.throttles.c.key.startswith(f"{world.account.id}:")
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.throttles).where(mine)).scalar_one())

    assert await stores.db.read(rows) == 0


async def test_throttle_0_turns_the_client_throttles_off(unthrottled: httpx.AsyncClient, world: World) -> None:
    statuses = [(await client_credentials(unthrottled, world.machine, f"g{i}")).status_code for i in range(25)]
    assert set(statuses) == {401}
    assert (await client_credentials(unthrottled, world.machine, world.machine.secret or "")).status_code == 200


# --- An admin lifts it -----------------------------------------------------------------------------


async def test_an_admin_lifts_a_sign_in_throttle_in_the_console(
    http: httpx.AsyncClient, world: World, settings: Settings, stores: Stores
) -> None:
    from tests.http.admin_support import audit_text
    from tests.support import sign_in as sign_in_as

    assert (await sign_in_as(http, world.admin.email, return_to="/admin")).status_code == 303
    for _ in range(settings.throttle_sign_in_per_email):
        assert await sign_in(http, world.user.email, "wrong") == 401
    page = await http.get(f"/admin/users/{world.user.id}")
    assert "Sign-in throttled" in page.text and "Lift the sign-in throttle" in page.text
    token = next(f.fields["authenticity_token"] for f in forms(page.text) if "authenticity_token" in f.fields)
    lifted = await http.post(f"/admin/users/{world.user.id}", data={"authenticity_token": token, "lift_throttle": "1"})
    assert lifted.status_code == 303, lifted.text
    assert "Sign-in throttled" not in (await http.get(f"/admin/users/{world.user.id}")).text
    assert "lift_throttle" in await audit_text(stores, world)
    assert await sign_in(http, world.user.email, PASSWORD) == 303
