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

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tessera.protocol import secrets
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
            self.node.database_url, "SELECT family FROM access_tokens WHERE digest = %s", secrets.digest(access_token)
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
