"""PostgreSQL gone under load, then back (INTERFACE.md section 9: "When the database is down,
requests answer 503 with Retry-After within TESSERA_DATABASE_TIMEOUT seconds, never hang,
and service resumes by itself when the database returns"; docs/reliability.md).

A real `tessera serve --workers 2` under a load of client_credentials tokens and
introspections loses its database: the database is closed to new connections (`ALTER
DATABASE ... ALLOW_CONNECTIONS false`, which PostgreSQL answers as it answers any refused
connection) and every session the server holds is ended (`pg_terminate_backend`), as a
restart or a failover ends them. The PostgreSQL service itself is shared and stays up: only
this test's database goes away. What must hold during the outage: every answer is 200 (a
call that got through before the cut) or 503 with `Retry-After`, none later than the timeout
plus what a loaded machine adds, none hangs; `/readyz` says 503. When connections are
allowed again: the load gets 200 again by itself, with no restart, and every token the
server answered 200 for, before, during or after, is still active (no lost write).

A 2-second outage in `make test`; `make reliability` makes three of 10 seconds each and
records the figures (time from the database's return to the first 200, and to all loops
answering 200 again).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.e2e import faults, harness
from tests.e2e.harness import Seeded

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TIMEOUT = 2.0  # TESSERA_DATABASE_TIMEOUT of the server under test
# The timeout, plus what a loaded 2-core test machine adds to a request around it.
ANSWERED_WITHIN = TIMEOUT + 2.0
OUTAGE_SECONDS = faults.scaled(2, 10)
OUTAGES = faults.scaled(1, 3)
LOOPS = 6  # concurrent request loops (half token requests, half introspections)
CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "read"}


@dataclass
class Answer:
    sent: float  # monotonic
    took: float
    status: int
    retry_after: str | None
    loop: int


@dataclass
class Ledger:
    answers: list[Answer] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # access tokens answered 200
    # (sent, answered: monotonic; status). A probe counts for the outage only if it was sent
    # and answered inside it: one sent just before the database returns may be answered
    # after it (its check waits up to a second), and then rightly says 200.
    readyz: list[tuple[float, float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Outage:
    node: faults.Node
    seeded: Seeded

    @property
    def auth(self) -> tuple[str, str]:
        return self.seeded.client["identifier"], self.seeded.client["secret"]

    @property
    def database(self) -> str:
        return self.node.database_url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    directory = tmp_path_factory.mktemp("outage")
    with harness.fresh_database("postgresql", directory) as database_url:
        seeded = harness.seed(database_url)
        env = {"TESSERA_DATABASE_TIMEOUT": str(TIMEOUT)}
        node = faults.Node(database_url, directory / "server.log", workers=2, env=env)
        node.start()
        try:
            yield Outage(node, seeded)
        finally:
            _allow_connections(Outage(node, seeded).database, True)
            node.stop()


def _allow_connections(database: str, allowed: bool) -> None:
    with psycopg.connect(harness.POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            # Twice: a session that was starting at the moment of the ALTER may not be listed yet.
            for sweep in range(2):
                time.sleep(0.2 * sweep)
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))


async def _load(o: Outage, http: httpx.AsyncClient, loop: int, ledger: Ledger, stop: asyncio.Event) -> None:
    token = loop % 2 == 0
    while not stop.is_set():
        sent = time.monotonic()
        if token:
            answer = await http.post("/oauth/tokens", auth=o.auth, data=CLIENT_CREDENTIALS)
        else:
            answer = await http.post("/oauth/introspect", auth=o.auth, data={"token": "tsa_unknown"})
        took = time.monotonic() - sent
        ledger.answers.append(Answer(sent, took, answer.status_code, answer.headers.get("retry-after"), loop))
        if token and answer.status_code == 200:
            ledger.issued.append(answer.json()["access_token"])
        if answer.status_code != 200:
            await asyncio.sleep(0.05)  # a client that heard 503 does not hammer


async def _probe_readiness(http: httpx.AsyncClient, ledger: Ledger, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sent = time.monotonic()
        answer = await http.get("/readyz")
        ledger.readyz.append((sent, time.monotonic(), answer.status_code))
        await asyncio.sleep(0.2)


async def _one_outage(o: Outage) -> tuple[Ledger, float, float]:
    """Load for a second, the database gone for OUTAGE_SECONDS, then back; the ledger and the
    moments (monotonic) the database went and came back."""
    ledger, stop = Ledger(), asyncio.Event()
    async with faults.async_client(o.node.port, o.seeded.subdomain, timeout=30) as http:
        tasks = [asyncio.create_task(_load(o, http, loop, ledger, stop)) for loop in range(LOOPS)]
        tasks.append(asyncio.create_task(_probe_readiness(http, ledger, stop)))
        await asyncio.sleep(1)
        await asyncio.to_thread(_allow_connections, o.database, False)
        went = time.monotonic()  # every session of the server ended
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(_allow_connections, o.database, True)
        back = time.monotonic()
        # Until every loop has had a 200 sent after the return (or 15 s, which fails below).
        deadline = back + 15
        while time.monotonic() < deadline:
            recovered = {a.loop for a in ledger.answers if a.sent >= back and a.status == 200}
            if len(recovered) == LOOPS:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
    return ledger, went, back


async def _lost(o: Outage, tokens: list[str]) -> list[str]:
    gate = asyncio.Semaphore(16)

    async def active(http: httpx.AsyncClient, token: str) -> bool:
        async with gate:
            answer = await http.post("/oauth/introspect", auth=o.auth, data={"token": token})
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])

    async with faults.async_client(o.node.port, o.seeded.subdomain) as http:
        verdicts = await asyncio.gather(*(active(http, t) for t in tokens))
    return [t for t, alive in zip(tokens, verdicts, strict=True) if not alive]


def test_database_gone_under_load_answers_503_in_time_and_service_resumes_by_itself(outage: Outage) -> None:
    o = outage
    for number in range(1, OUTAGES + 1):
        ledger, went, back = asyncio.run(_one_outage(o))
        during = [a for a in ledger.answers if went <= a.sent and a.sent + a.took <= back]
        after = [a for a in ledger.answers if a.sent >= back]
        first_200 = min((a.sent + a.took for a in after if a.status == 200), default=None)
        per_loop = [
            min((a.sent + a.took for a in after if a.status == 200 and a.loop == n), default=None) for n in range(LOOPS)
        ]
        all_200 = None if None in per_loop else max(x for x in per_loop if x is not None)
        readyz_during = [s for sent, answered, s in ledger.readyz if went <= sent and answered <= back]
        lost = asyncio.run(_lost(o, ledger.issued))
        faults.record(
            "outage",
            outage=number,
            outage_seconds=OUTAGE_SECONDS,
            timeout_seconds=TIMEOUT,
            requests=len(ledger.answers),
            during=len(during),
            answered_503=sum(a.status == 503 for a in during),
            slowest_during=round(max((a.took for a in during), default=0.0), 2),
            readyz_503=sum(s == 503 for s in readyz_during),
            readyz_probes=len(readyz_during),
            first_200_seconds=None if first_200 is None else round(first_200 - back, 2),
            all_200_seconds=None if all_200 is None else round(all_200 - back, 2),
            answered_200=len(ledger.issued),
            lost=len(lost),
            server_errors=sum(a.status >= 500 and a.status != 503 for a in ledger.answers),
        )
        log = o.node.log()[-3000:]
        wrong = [(a.status, a.retry_after) for a in ledger.answers if a.status not in (200, 503)]
        assert wrong == [], (wrong, log)
        assert all(a.retry_after == "5" for a in ledger.answers if a.status == 503), log
        slow = [round(a.took, 2) for a in ledger.answers if a.took > ANSWERED_WITHIN]
        assert slow == [], f"answers slower than {ANSWERED_WITHIN} s: {slow}"
        assert during and all(a.status == 503 for a in during), [(a.status, a.took) for a in during]
        assert readyz_during and set(readyz_during) == {503}, readyz_during
        assert all_200 is not None, f"not every loop answered 200 within 15 s of the database's return:\n{log}"
        assert lost == [], f"{len(lost)} of {len(ledger.issued)} answered tokens were lost"
        assert "Traceback" not in o.node.log()
