"""Races against real server processes on PostgreSQL with `tessera serve --workers 2`
(INTERFACE.md section 4, "Single use and rotation"; RFC 6749 section 10.5, RFC 9700
section 4.14.2; RFC 7009 section 2.1): 50 concurrent redemptions of one code, 50 concurrent
uses of one refresh token, and 50 revocations interleaved with 50 refreshes of one family.

Exactly one success where one is due, no token left alive in a revoked family (asked of
the server by introspection and of the database by a direct query), no 5xx, and every
request answered (no deadlock: harness.race fails on a request that hangs). One round of
each in `make test`; `make reliability` runs more and records the figures.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tessera.management import accounts, clients, users
from tessera.management import audit_events as ev
from tessera.protocol import secrets as token_secrets
from tessera.settings import normalise_database_url
from tessera.storage.database import open_database
from tessera.storage.stores import Stores
from tests.e2e import faults, harness
from tests.e2e.harness import Seeded

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

RACERS = 50
ROUNDS = faults.scaled(1, 5)
ALICE = "alice@example.com"


@dataclass(frozen=True)
class Racing:
    node: faults.Node
    seeded: Seeded
    codes: faults.Codes

    @property
    def issuer(self) -> str:
        return f"http://{self.seeded.subdomain}.localhost:{self.node.port}"

    @property
    def auth(self) -> tuple[str, str]:
        return self.seeded.client["identifier"], self.seeded.client["secret"]

    def post(self, http: httpx.Client, path: str, form: dict[str, str]) -> httpx.Response:
        return http.post(f"{self.issuer}{path}", auth=self.auth, data=form)

    def tokens(self) -> dict[str, Any]:
        """A fresh family: a code redeemed once."""
        code, verifier = self.codes.new()
        with harness.http_client() as http:
            answer = self.post(http, "/oauth/tokens", self.codes.redeem_form(code, verifier))
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def active(self, token: str) -> bool:
        with harness.http_client() as http:
            answer = self.post(http, "/oauth/introspect", {"token": token})
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])

    def family_of(self, access_token: str) -> str:
        (row,) = faults.sql(
            self.node.database_url,
            "SELECT family FROM access_tokens WHERE digest = %s",
            token_secrets.digest(access_token),
        )
        return str(row[0])

    def alive_in_family(self, family: str) -> int:
        """Rows of the family the server would still honour, counted in the database itself."""
        now = time.time()
        access = faults.sql(
            self.node.database_url,
            "SELECT count(*) FROM access_tokens WHERE family = %s AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > %s)",
            family,
            now,
        )
        refresh = faults.sql(
            self.node.database_url,
            "SELECT count(*) FROM refresh_tokens WHERE family = %s AND revoked_at IS NULL"
            " AND used_at IS NULL AND expires_at > %s",
            family,
            now,
        )
        return int(access[0][0]) + int(refresh[0][0])


@pytest.fixture(scope="module")
def racing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Racing]:
    directory = tmp_path_factory.mktemp("races")
    with harness.fresh_database("postgresql", directory) as database_url:
        seeded = harness.seed(database_url)
        # Racers open their connections first and wait at a barrier: on a loaded machine a
        # hundred of them may wait longer than the 5 s keep-alive default, and a connection
        # the server closed meanwhile would fail the race for a reason that is not the race.
        keep_alive = {"TESSERA_KEEP_ALIVE_TIMEOUT": "120"}
        node = faults.Node(database_url, directory / "server.log", workers=2, env=keep_alive)
        node.start()
        codes = faults.Codes(f"http://{seeded.subdomain}.localhost:{node.port}", seeded.client, ALICE)
        try:
            yield Racing(node, seeded, codes)
        finally:
            codes.close()
            node.stop()


def _record(kind: str, answers: list[httpx.Response], winners: list[httpx.Response]) -> None:
    """One round's outcome for docs/reliability.md, before the test judges it."""
    errors = sum(a.status_code >= 500 for a in answers)
    faults.record("race", kind=kind, racers=len(answers), successes=len(winners), server_errors=errors)


def _no_server_error(answers: list[httpx.Response], racing: Racing) -> None:
    errors = [a for a in answers if a.status_code >= 500]
    assert not errors, ([(a.status_code, a.text) for a in errors], racing.node.log()[-4000:])


def test_fifty_concurrent_redemptions_of_one_code_one_succeeds(racing: Racing) -> None:
    """A code is redeemed at most once; of concurrent redemptions exactly one succeeds, the
    others get invalid_grant; the code's tokens are either all alive or all revoked (a
    later presentation revokes them), never a mixture."""
    for _ in range(ROUNDS):
        _code_round(racing)


def _code_round(racing: Racing) -> None:
    code, verifier = racing.codes.new()
    form = racing.codes.redeem_form(code, verifier)
    answers = harness.race(racing.issuer, RACERS, lambda http: racing.post(http, "/oauth/tokens", form))
    winners = [a for a in answers if a.status_code == 200]
    _record("code", answers, winners)
    _no_server_error(answers, racing)
    assert len(winners) == 1, [a.text for a in answers]
    assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code != 200)
    family = racing.family_of(winners[0].json()["access_token"])
    alive = racing.alive_in_family(family)
    assert alive in (0, 2), f"the code's access and refresh tokens are half revoked: {alive} alive"
    assert racing.active(winners[0].json()["access_token"]) == (alive == 2)


def test_fifty_concurrent_uses_of_one_refresh_token_one_succeeds(racing: Racing) -> None:
    """Of concurrent uses of one refresh token exactly one succeeds; the others hear that it
    was just used (inside TESSERA_REFRESH_REUSE_GRACE nothing is revoked)."""
    for _ in range(ROUNDS):
        _refresh_round(racing)


def _refresh_round(racing: Racing) -> None:
    issued = racing.tokens()
    form = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    answers = harness.race(racing.issuer, RACERS, lambda http: racing.post(http, "/oauth/tokens", form))
    winners = [a for a in answers if a.status_code == 200]
    _record("refresh", answers, winners)
    _no_server_error(answers, racing)
    assert len(winners) == 1, [a.text for a in answers]
    for loser in (a for a in answers if a.status_code != 200):
        assert loser.status_code == 400 and loser.json()["error"] == "invalid_grant", loser.text
        assert "just used" in loser.json()["error_description"], loser.text
    won = winners[0].json()
    assert racing.active(won["access_token"]) and racing.active(won["refresh_token"])
    assert not racing.active(issued["access_token"])  # rotation revoked the previous access token
    assert racing.alive_in_family(racing.family_of(won["access_token"])) == 2


def test_revocations_interleaved_with_refreshes_leave_nothing_alive(racing: Racing) -> None:
    """RFC 7009 section 2.1: revoking a refresh token revokes its family. 50 revocations and
    50 refreshes of one refresh token at once: every revocation answers 200, at most one
    refresh succeeds, and afterwards no token of the family is alive: not the original
    pair, and not a pair a refresh minted while the revocations ran."""
    for _ in range(ROUNDS):
        _revoke_round(racing)


def _revoke_round(racing: Racing) -> None:
    issued = racing.tokens()
    refresh = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]}
    revoke = {"token": issued["refresh_token"], "token_type_hint": "refresh_token"}
    turns = itertools.count()  # next() on it is atomic: half the racers revoke, half refresh

    def send(http: httpx.Client) -> httpx.Response:
        if next(turns) % 2:
            return racing.post(http, "/oauth/revoke", revoke)
        return racing.post(http, "/oauth/tokens", refresh)

    answers = harness.race(racing.issuer, 2 * RACERS, send)
    revocations = [a for a in answers if a.request.url.path == "/oauth/revoke"]
    refreshes = [a for a in answers if a.request.url.path == "/oauth/tokens"]
    winners = [a for a in refreshes if a.status_code == 200]
    _record("revoke+refresh", answers, winners)
    _no_server_error(answers, racing)
    assert len(revocations) == len(refreshes) == RACERS
    assert all(a.status_code == 200 for a in revocations), [a.text for a in revocations]
    assert len(winners) <= 1, [a.text for a in winners]
    assert all(a.json()["error"] == "invalid_grant" for a in refreshes if a.status_code != 200)
    seen = [issued["access_token"], issued["refresh_token"]]
    seen += [t for w in winners for t in (w.json()["access_token"], w.json()["refresh_token"])]
    assert [t for t in seen if racing.active(t)] == []
    assert racing.alive_in_family(racing.family_of(issued["access_token"])) == 0


# Bulk revocations: everything of a user or of a client revoked in one transaction, while 50
# refreshes of that user's or client's families run. Each refresh rotation holds its user
# and client shared, and a bulk revocation holds them exclusively (storage/rotation_locks.py,
# lock_out_rotations): without it, a rotation that had claimed its refresh token but not
# committed was invisible to the revocation's UPDATE, and its new pair stayed alive.

BULK = ("suspend-user", "withdraw-consent", "delete-client")


@dataclass
class Bulk:
    """A user and a client of their own for one round, with RACERS families between them."""

    kind: str
    user_id: int
    client: dict[str, Any]  # identifier, secret, id
    refresh_tokens: list[str]


def _stores(racing: Racing) -> tuple[Any, Stores]:
    db = open_database(normalise_database_url(racing.node.database_url))
    return db, Stores.over(db)


def _bulk_round_setup(racing: Racing, kind: str, serial: int) -> Bulk:
    db, stores = _stores(racing)
    email = f"bulk-{kind}-{serial}-{secrets.token_hex(3)}@example.com"

    async def create() -> tuple[int, dict[str, Any]]:
        now = time.time()
        account = await accounts.get(stores, racing.seeded.subdomain)
        user = await users.create(stores, account, email, harness.PASSWORD, "end-user", None, now)
        spec = clients.ClientSpec(
            name=f"Bulk {kind} {serial}",
            identifier=f"bulk-{kind}-{serial}-{secrets.token_hex(3)}",
            account=account,
            redirect_uris=(harness.REDIRECT_URI,),
            grant_types=("authorization_code", "refresh_token"),
        )
        client, secret = await clients.create(stores, spec, now)
        return user.id, {"identifier": client.identifier, "secret": secret, "id": client.id}

    try:
        user_id, client = asyncio.run(create())
    finally:
        db.close()
    codes = faults.Codes(racing.issuer, client, email)
    refresh_tokens = []
    try:
        with harness.http_client() as http:
            for _ in range(RACERS):
                code, verifier = codes.new()
                answer = http.post(
                    f"{racing.issuer}/oauth/tokens",
                    auth=(client["identifier"], client["secret"]),
                    data=codes.redeem_form(code, verifier),
                )
                assert answer.status_code == 200, answer.text
                refresh_tokens.append(answer.json()["refresh_token"])
    finally:
        codes.close()
    return Bulk(kind, user_id, client, refresh_tokens)


class _BulkRevoker:
    """The bulk revocation, through the management layer the API, the console and the CLI
    call, from this process: its database, connections and account are ready before the
    race, so that its moment in the race is known to the millisecond."""

    def __init__(self, racing: Racing, bulk: Bulk) -> None:
        self.racing, self.bulk = racing, bulk
        self.runner = asyncio.Runner()
        self.db = open_database(normalise_database_url(racing.node.database_url))
        self.stores = Stores.over(self.db)
        self.account = self.runner.run(accounts.get(self.stores, racing.seeded.subdomain))

    def revoke(self) -> None:
        bulk, stores, account, now = self.bulk, self.stores, self.account, time.time()
        if bulk.kind == "suspend-user":
            change = users.UserChanges(suspended=True)
            self.runner.run(users.update(stores, account, bulk.user_id, change, ev.SYSTEM_ACTOR, now))
        elif bulk.kind == "withdraw-consent":
            self.runner.run(stores.consents.forget(bulk.user_id, bulk.client["id"], now))
        else:
            self.runner.run(clients.delete(stores, account, bulk.client["id"], ev.SYSTEM_ACTOR, now))

    def close(self) -> None:
        self.db.close()
        self.runner.close()


def _alive_of(racing: Racing, bulk: Bulk) -> int:
    """Tokens of the round's user and client the server would still honour, counted in the database."""
    now = time.time()
    counts = [
        faults.sql(
            racing.node.database_url,
            f"SELECT count(*) FROM {table} WHERE user_id = %s AND client_id = %s AND revoked_at IS NULL AND {alive}",
            bulk.user_id,
            bulk.client["id"],
            now,
        )[0][0]
        for table, alive in (
            ("access_tokens", "(expires_at IS NULL OR expires_at > %s)"),
            ("refresh_tokens", "used_at IS NULL AND expires_at > %s"),
        )
    ]
    return int(sum(counts))


@pytest.mark.parametrize("kind", BULK)
def test_bulk_revocations_interleaved_with_refreshes_leave_nothing_alive(racing: Racing, kind: str) -> None:
    """A user suspended (management/users.py), an app's consent withdrawn (the authorized-apps
    Revoke) or a client deleted, while 50 refreshes of 50 families of that user and client
    run: afterwards not one token of the user and client is alive, whether its refresh won
    before the revocation, lost to it, or was under way at its moment; no 5xx."""
    for serial in range(ROUNDS):
        _bulk_round(racing, kind, serial)


def _bulk_round(racing: Racing, kind: str, serial: int) -> None:
    bulk = _bulk_round_setup(racing, kind, serial)
    auth = (bulk.client["identifier"], bulk.client["secret"])
    start = threading.Barrier(RACERS + 1)
    answered = threading.Semaphore(0)
    results: list[httpx.Response | BaseException | None] = [None] * RACERS
    revoked: list[BaseException | None] = [None]

    def refresher(index: int) -> None:
        try:
            with harness.http_client() as http:
                http.get(f"{racing.issuer}/")  # open the connection before the race
                start.wait(timeout=10)
                form = {"grant_type": "refresh_token", "refresh_token": bulk.refresh_tokens[index]}
                results[index] = http.post(f"{racing.issuer}/oauth/tokens", auth=auth, data=form)
        except BaseException as error:  # reported by the assertion below
            results[index] = error
        finally:
            answered.release()

    def revoker() -> None:
        try:
            bulk_revoker = _BulkRevoker(racing, bulk)
        except BaseException as error:
            revoked[0] = error
            start.abort()
            return
        try:
            start.wait(timeout=10)
            # In the thick of it: the first refreshes answered, most still running.
            for _ in range(2):
                answered.acquire(timeout=10)
            bulk_revoker.revoke()
        except BaseException as error:
            revoked[0] = error
        finally:
            bulk_revoker.close()

    threads = [threading.Thread(target=refresher, args=(i,)) for i in range(RACERS)]
    threads.append(threading.Thread(target=revoker))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert revoked[0] is None, revoked[0]
    answers = [r for r in results if isinstance(r, httpx.Response)]
    assert len(answers) == RACERS, results
    winners = [a for a in answers if a.status_code == 200]
    alive = _alive_of(racing, bulk)
    faults.record(
        "race",
        kind=f"refresh+{kind}",
        racers=RACERS + 1,
        successes=len(winners),
        alive=alive,
        server_errors=sum(a.status_code >= 500 for a in answers),
    )
    _no_server_error(answers, racing)
    # A refresh after the revocation is refused: invalid_grant, or invalid_client once the client is gone.
    assert all(a.status_code in (200, 400, 401) for a in answers), [(a.status_code, a.text) for a in answers]
    assert alive == 0, (
        f"{alive} tokens of the user and client alive after {kind} ({len(winners)} refreshes won)",
        racing.node.log()[-3000:],
    )
