"""A smoke run of the peer's benchmark (bench/oidc_provider.py): node-oidc-provider 9 from
bench/peer, a second of load on each of its four flows, its codes and refresh tokens
minted through its own models. Checks that every flow answers what Tessera's answers
(the wrk scripts check status and body) with no error, and that the report divides
Tessera's figures by the peer's. The figures themselves belong to `make bench`.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from bench import oidc_provider, report, servers

pytestmark = pytest.mark.e2e

FLOWS = ["client_credentials", "authorization_code", "refresh_token", "introspection"]


@pytest.fixture(scope="module")
def peer() -> dict[str, Any]:
    assert shutil.which("wrk"), "wrk is needed: `make test` installs it (scripts/ensure-test-packages)"
    assert shutil.which("node"), "node is needed for the peer"
    assert (servers.PEER / "node_modules" / "oidc-provider").is_dir(), "`make test` runs npm ci in bench/peer"
    return oidc_provider.bench(1.0, lambda line: None)


def test_every_peer_flow_was_measured_without_errors(peer: dict[str, Any]) -> None:
    assert peer["name"].startswith("oidc-provider 9.")
    assert list(peer["scenarios"]) == FLOWS
    for name, figure in peer["scenarios"].items():
        assert figure["errors"] == 0, name
        assert all(run["requests"] > 0 and run["errors"] == 0 for run in figure["runs"]), name
        assert figure["cpu_us_per_request"] > 0, name


def _tessera(rps: float, cpu: float) -> dict[str, Any]:
    figure = {"rps": rps, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0, "cpu_us_per_request": cpu, "runs": []}
    names = ["healthz", *FLOWS, "users_me"]
    return {"engine": "x", "workers": 1, "rss_mb": 90.0, "scenarios": {name: dict(figure) for name in names}}


def test_the_report_divides_each_flow_by_the_peers(peer: dict[str, Any]) -> None:
    sqlite, postgresql = _tessera(8000.0, 100.0), _tessera(6000.0, 120.0)
    results = {"configs": {"sqlite": sqlite, "postgresql": postgresql}, "peer": peer}
    ratios = report.ratios(results)
    for key, name in report.VS_PEER.items():
        assert ratios[key] == round(8000.0 / peer["scenarios"][name]["rps"], 3), key
    assert ratios["pg_cc_vs_peer"] == round(6000.0 / peer["scenarios"]["client_credentials"]["rps"], 3)
    for key in ("pg_cc_vs_sqlite", "pg_refresh_vs_sqlite", "pg_code_vs_sqlite"):
        assert ratios[key] == 0.75, key
    assert ratios["pg_cc_cpu_vs_sqlite"] == 1.2
    assert ratios["errors"] == 0
    # Each flow's row in the results tables has its / peer figure.
    table = report._config_table(sqlite, peer)
    for name in FLOWS:
        row = next(line for line in table if line.startswith(f"| {name} |"))
        assert row.split("|")[7].strip() == f"{8000.0 / peer['scenarios'][name]['rps']:.2f}", name
