"""Issue "Bad input", INTERFACE.md sections 4-6: every endpoint — authorization, consent,
login, logout, token, revocation, introspection, userinfo, the platform host's chooser,
the admin console's forms, every /api/v2 endpoint — answers hostile input (see
fuzz_requests.py) with a well-formed answer, never a 5xx, never a traceback, never a hang.

Hypothesis draws the requests, derandomized (the same cases on every run) and with a small
budget here; `make fuzz` runs the same strategies with FUZZ_EXAMPLES cases per endpoint and
FUZZ_SEED, and reports per endpoint the cases run and the 5xx seen (FUZZ_REPORT).
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tessera.app import create_app
from tessera.management import accounts, registration, tokens
from tessera.protocol import secrets
from tessera.settings import Settings
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tessera.web import csrf
from tessera.web.sessions import COOKIE, LOGIN_COOKIE
from tests.http.fuzz_requests import ENDPOINTS, Credentials, Endpoint, assert_well_formed, build, draws_for
from tests.support import PASSWORD, Clock, World, make_world

pytestmark = pytest.mark.anyio

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
REPORT = os.environ.get("FUZZ_REPORT")  # make fuzz: count 5xx per endpoint instead of stopping at the first
SEED = os.environ.get("FUZZ_SEED")  # make fuzz: this seed; make test: derandomized (a seed per test name)
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=SEED is None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)


def fuzz(test: Any) -> Any:
    return _SETTINGS(test) if SEED is None else seed(int(SEED))(_SETTINGS(test))


# Endpoints whose success may end the credentials the next request needs (a sign-out, a
# revoked token or client, a suspended user): the next example mints them again.
SPENDING = ("logout", "DELETE", "revoke", "PUT /api/v2/users", "POST admin user", "POST admin client", "secret")


async def _session(stores: Stores, world: World, settings_: Settings, user_id: int, now: float) -> tuple[str, str]:
    cookie = secrets.new_secret("")
    await stores.sessions.start(None, secrets.digest(cookie), world.account.id, user_id, now, now + 3600)
    return cookie, csrf.token(settings_.secret_key, "session", cookie)


async def mint(stores: Stores, world: World, settings_: Settings, clock: Clock) -> Credentials:
    """Fresh sessions and tokens for the admin and the end user, and the world's values."""
    now = clock()
    admin_cookie, admin_csrf = await _session(stores, world, settings_, world.admin.id, now)
    user_cookie, user_csrf = await _session(stores, world, settings_, world.user.id, now)
    made = {
        who: await tokens.create(
            stores,
            world.account,
            world.web.client,
            user,
            "read write",
            now,
            keys=None,
            issuer=world.origin,  # type: ignore[arg-type]
        )
        for who, user in (("admin", world.admin), ("user", world.user))
    }
    login_cookie = random_secrets.token_urlsafe(32)
    # A client that registered itself (RFC 7591), whose registration the RFC 7592 cases manage.
    metadata = {"client_name": "Fuzz Agent", "redirect_uris": ["https://fuzz.example/cb"]}
    registered = await registration.register(
        stores, world.account, metadata, registration.Admitted(), world.origin, now, None
    )
    assert world.web.secret is not None and world.machine.secret is not None
    values = {
        "web.client_id": world.web.client_id,
        "spa.client_id": world.spa.client_id,
        "web.secret": world.web.secret,
        "machine.secret": world.machine.secret,
        "web.id": str(world.web.client.id),
        "web.id#": world.web.client.id,
        "admin.id": str(world.admin.id),
        "user.id": str(world.user.id),
        "admin.email": world.admin.email,
        "password": PASSWORD,
        "csrf": admin_csrf,
        "csrf.admin_session": admin_csrf,
        "csrf.user_session": user_csrf,
        "login_csrf": csrf.token(settings_.secret_key, "login", login_cookie),
        "access_token": made["admin"].full_token,
        "refresh_token": made["admin"].refresh_token or "tsr_none",
        "id_token": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
        "token.id": str(made["admin"].token.id),
        "ticket.id": "1",
        "audit.id": "1",
        "subdomain": world.subdomain,
        "dyn.client_id": registered["client_id"],
    }
    basic = httpx.BasicAuth(world.web.client_id, world.web.secret)._auth_header
    headers = {
        "nothing": {},
        "none": {"Cookie": f"{LOGIN_COOKIE}={login_cookie}"},
        "admin_session": {"Cookie": f"{COOKIE}={admin_cookie}; {LOGIN_COOKIE}={login_cookie}"},
        "user_session": {"Cookie": f"{COOKIE}={user_cookie}"},
        "admin_bearer": {"Authorization": f"Bearer {made['admin'].full_token}"},
        "user_bearer": {"Authorization": f"Bearer {made['user'].full_token}"},
        "client_basic": {"Authorization": basic},
        "garbage": {"Authorization": "Bearer tsa_" + "A" * 43, "Cookie": f"{COOKIE}=tss_garbage"},
        "registration_bearer": {"Authorization": f"Bearer {registered['registration_access_token']}"},
    }
    return Credentials(values=values, headers=headers)


@dataclass
class Run:
    counts: Counter[str] = field(default_factory=Counter)
    credentials: Credentials | None = None


@pytest.fixture
def run(request: pytest.FixtureRequest, database_url: str) -> Iterator[Run]:
    """Cases and 5xx of this test, appended to FUZZ_REPORT (one JSON line) when it is set."""
    state = Run()
    yield state
    if REPORT:
        endpoint = request.node.callspec.params["endpoint"]
        line = {"endpoint": endpoint.name, "engine": database_url.split(":", 1)[0].split("+")[0], **state.counts}
        with open(REPORT, "a", encoding="utf-8") as report:
            report.write(json.dumps(line) + "\n")


@dataclass
class Shared:
    """One world and app per engine for the whole module: building a world hashes two
    passwords, which would cost more than the cases themselves. Each test mints its own
    sessions and tokens (`mint`), so that an endpoint that spends them does not starve the
    next. Built inside the first test that needs it (a module-scoped async fixture would
    share an event loop runner with the tests, which a failing case closes)."""

    world: World
    stores: Stores
    settings: Settings
    clock: Clock
    app: Any


SHARED: dict[str, Shared] = {}


async def shared_for(database_url: str, database: Database) -> Shared:
    if database_url not in SHARED:
        clock = Clock()
        stores = Stores.over(database)
        world = await make_world(stores, clock)
        # Open, so that the registration endpoints get past the policy to the code behind it.
        await accounts.set_registration_policy(stores, world.subdomain, "open")
        settings_ = Settings(
            database_url=database_url,
            base_domain="localhost",
            scheme="http",
            secret_key="fuzz-secret-key-" + random_secrets.token_urlsafe(32),
            access_log=False,
            clock=clock,
            throttle_registration_per_address=1_000_000,
        )
        SHARED[database_url] = Shared(world, stores, settings_, clock, create_app(settings_, db=database))
    return SHARED[database_url]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
@fuzz
@given(data=st.data(), json_suffix=st.booleans())
async def test_every_endpoint_answers_hostile_input_without_a_server_error(
    database_url: str, database: Database, run: Run, endpoint: Endpoint, data: st.DataObject, json_suffix: bool
) -> None:
    shared = await shared_for(database_url, database)
    draw = data.draw(draws_for(endpoint), label="request")
    if json_suffix and endpoint.path.startswith("/api/v2/"):
        endpoint = Endpoint(endpoint.name, endpoint.method, endpoint.path + ".json", endpoint.host)
    credentials = run.credentials or await mint(shared.stores, shared.world, shared.settings, shared.clock)
    request = build(endpoint, draw, credentials, shared.world.origin)
    # An unexpected error is the 500 a real server would send, counted like any other answer.
    transport = httpx.ASGITransport(app=shared.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport) as http:
        with anyio.fail_after(15):  # never a hang
            response = await http.send(request)
    run.counts["cases"] += 1
    if response.status_code >= 500:
        run.counts["server_errors"] += 1
        if REPORT:
            run.credentials = None
            return
    assert_well_formed(response)
    spent = response.status_code < 400 and any(word in endpoint.name for word in SPENDING)
    run.credentials = None if spent else credentials
