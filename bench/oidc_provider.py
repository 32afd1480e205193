"""The peer, node-oidc-provider 9 (bench/peer/server.mjs), measured like Tessera: the same
wrk scripts, connections, pinning and response checks, on the same four token flows.

client_credentials and introspection are fixed requests. Authorization codes (PKCE, S256)
and refresh tokens (rotated on every use) are single use: the peer mints them through its
own models (a Grant each, then AuthorizationCode or RefreshToken saved by its in-memory
adapter), one per request, written to a file that wrk's threads share out exactly as for
Tessera. They are minted before each run, warm-up included, outside the CPU measured.

Its in-memory store is an LRU (two generations of STORE_SIZE entries: an entry survives at
least STORE_SIZE insertions after its last use). The peer is started with STORE_SIZE
above what one mint and one run insert (a credential and its grant take three entries,
redeeming it at most seven more), so nothing minted is evicted before its run uses it: an
evicted code would be answered invalid_grant and count as an error. Each mint empties the
store first, so the peer's heap holds one run's credentials, never what earlier runs left.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.common import RUNS, Figure, warm_up
from bench.wrk import Measured, Scenario, basic, run

# Credentials minted per run: enough for this many redemptions a second, about twice the
# peer's client_credentials rate on the bench machine (a code or refresh redemption does
# all a client_credentials request does, and more). Running out shows as errors.
MAX_RATE = 10_000
# LRU entries each minted credential may insert, minting and redemption together.
ENTRIES_PER_CREDENTIAL = 10
REDIRECT_URI = "http://127.0.0.1/callback"  # registered for bench-web in server.mjs
WARM_UP = 2.0

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CC = {**_FORM, "Authorization": basic("bench", "bench-secret")}
WEB = {**_FORM, "Authorization": basic("bench-web", "bench-web-secret")}


def per_run(seconds: float) -> int:
    return int(MAX_RATE * seconds) + 1000


def store_size(seconds: float) -> int:
    return ENTRIES_PER_CREDENTIAL * per_run(max(seconds, WARM_UP))


def scenarios(folder: Path) -> list[Scenario]:
    """The peer's flows, named as Tessera's so that the results tables can divide them."""
    return [
        Scenario(
            "client_credentials",
            "POST",
            "/token",
            CC,
            body="grant_type=client_credentials&scope=read",
            expect_body='"access_token"',
        ),
        # Tessera's scenario sends the same fields: the code, its PKCE verifier, redirect_uri.
        # Checked for the refresh token, which the peer issues with the access token here
        # (as Tessera does for a client allowed the refresh_token grant).
        Scenario(
            "authorization_code",
            "POST",
            "/token",
            WEB,
            body="grant_type=authorization_code&code=%s&code_verifier=%s&redirect_uri=" + REDIRECT_URI,
            expect_body='"refresh_token"',
            credentials=folder / "codes.txt",
        ),
        Scenario(
            "refresh_token",
            "POST",
            "/token",
            WEB,
            body="grant_type=refresh_token&refresh_token=%s%s",
            expect_body='"refresh_token"',
            credentials=folder / "refresh.txt",
        ),
    ]


def mint(running: servers.PeerRunning, kind: str, count: int, path: Path) -> Path:
    """`count` fresh codes ("code verifier" lines) or refresh tokens, minted by the peer."""
    answer = httpx.post(f"{running.mint}/mint", params={"kind": kind, "count": count}, timeout=600)
    answer.raise_for_status()
    path.write_text(answer.text)
    return path


def _measure(scenario: Scenario, running: servers.PeerRunning, seconds: float) -> list[tuple[Measured, float]]:
    kind = {"authorization_code": "code", "refresh_token": "refresh"}.get(scenario.name)
    results = []
    for k in range(RUNS):
        if kind is not None and scenario.credentials is not None:
            path = scenario.credentials.with_suffix(f".{k}.txt")
            scenario = replace(scenario, credentials=mint(running, kind, per_run(seconds), path))
        before = servers.cpu_seconds(running.pid)
        measured = run(scenario, running.base, seconds)
        results.append((measured, servers.cpu_seconds(running.pid) - before))
    return results


def _warm_up(scenario: Scenario, running: servers.PeerRunning, seconds: float) -> None:
    """Unmeasured, so V8 has compiled each flow's path before it is measured."""
    kind = {"authorization_code": "code", "refresh_token": "refresh"}.get(scenario.name)
    if kind is not None and scenario.credentials is not None:
        path = mint(running, kind, per_run(min(seconds, WARM_UP)), scenario.credentials.with_suffix(".warm.txt"))
        scenario = replace(scenario, credentials=path)
    warm_up(scenario, running, seconds)


def _introspection(running: servers.PeerRunning) -> Scenario:
    token = httpx.post(f"{running.base}/token", headers=CC, content="grant_type=client_credentials&scope=read").json()[
        "access_token"
    ]
    return Scenario(
        "introspection", "POST", "/token/introspection", CC, body=f"token={token}", expect_body='"active":true'
    )


def _bench_one(
    scenario: Scenario, running: servers.PeerRunning, seconds: float, log: Callable[[str], None]
) -> dict[str, Any]:
    _warm_up(scenario, running, seconds)
    figure = asdict(Figure.of(scenario.name, _measure(scenario, running, seconds)))
    log(f"  peer {scenario.name:20} {figure['rps']:9.1f}/s p99 {figure['p99_ms']:.2f} ms errors {figure['errors']}")
    return figure


def bench(seconds: float, log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tessera-bench-peer-") as name:
        folder = Path(name)
        figures = {}
        with servers.peer(folder / "peer.log", store_size=store_size(seconds)) as running:
            for scenario in scenarios(folder):
                figures[scenario.name] = _bench_one(scenario, running, seconds, log)
            # After the token flows: its token is minted just before its run, as every
            # peer credential is.
            figures["introspection"] = _bench_one(_introspection(running), running, seconds, log)
            rss = servers.rss_mb(running.pid)
    version = json.loads((servers.PEER / "node_modules" / "oidc-provider" / "package.json").read_text())["version"]
    return {"name": f"oidc-provider {version}", "scenarios": figures, "rss_mb": round(rss, 1)}
