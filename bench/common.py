"""What the benchmark modules share: the run count, the server's secret and host headers,
the two scenarios the scale experiments repeat, and Figure, one scenario's summary.

run.py (the suite), passwords.py and scale.py all import this module, never one another:
`python -m bench.run` runs run.py as __main__, so a module importing bench.run loaded it a
second time, with a second Figure class.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import seed, servers
from bench.wrk import Measured, Scenario, basic, run

RUNS = 2
SECRET_KEY = "bench-secret-key-" + "x" * 32
HOST = {"Host": f"{seed.SUBDOMAIN}.localhost"}
FORM = {**HOST, "Content-Type": "application/x-www-form-urlencoded"}


def client_credentials_scenario(seeded: seed.Seeded) -> Scenario:
    return Scenario(
        "client_credentials",
        "POST",
        "/oauth/tokens",
        {**FORM, "Authorization": basic(*seeded.cc)},
        body="grant_type=client_credentials&scope=read",
        expect_body='"access_token"',
    )


def introspection_scenario(seeded: seed.Seeded, token: str) -> Scenario:
    return Scenario(
        "introspection",
        "POST",
        "/oauth/introspect",
        {**FORM, "Authorization": basic(*seeded.resource_server)},
        body=f"token={token}",
        expect_body='"active":true',
    )


@dataclass
class Figure:
    scenario: str
    runs: list[dict[str, float]]
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_request: float

    @classmethod
    def of(cls, scenario: str, runs: list[tuple[Measured, float]]) -> Figure:
        measured = [m for m, _ in runs]
        best = max(measured, key=lambda m: m.rps)
        cpu = sum(c for _, c in runs) / max(1, sum(m.requests for m in measured))
        return cls(
            scenario=scenario,
            runs=[
                {
                    "requests": m.requests,
                    "rps": round(m.rps, 1),
                    "p50_ms": m.p50_ms,
                    "p99_ms": m.p99_ms,
                    "errors": m.errors,
                }
                for m in measured
            ],
            rps=round(statistics.mean(m.rps for m in measured), 1),
            p50_ms=best.p50_ms,
            p99_ms=best.p99_ms,
            errors=sum(m.errors for m in measured),
            cpu_us_per_request=round(cpu * 1e6, 1),
        )


def warm_up(scenario: Scenario, running: servers.Running, seconds: float) -> None:
    """A short unmeasured run first, so neither server is measured while warming up (V8's
    JIT, Python's caches and first connections)."""
    run(scenario, running.base, min(seconds, 2.0))
