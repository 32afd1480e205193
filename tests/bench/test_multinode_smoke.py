"""A smoke run of the multi-node benchmark (`python -m bench.multinode`, bench/multinode.py):
two `tessera serve` processes on one PostgreSQL database behind HAProxy, a second of load
of client_credentials (the scenario that reaches every tier; `make bench` adds introspection
and users_me). Checks the harness end to end (every answer right, every tier's counters
read, the capacity model and its table), not the figures: those belong to `make bench`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import capacity, multinode

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    missing = multinode.haproxy_missing()
    if missing:
        pytest.skip(missing)
    assert shutil.which("wrk"), "wrk is needed: `make test` installs it (scripts/ensure-test-packages)"
    output = tmp_path_factory.mktemp("bench-nodes") / "r.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.multinode",
            *("--seconds", "1", "--runs", "1", "--settle", "0", "--scenarios", "client_credentials"),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"bench.multinode failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    data: dict[str, Any] = json.loads(output.read_text())
    return data


def test_every_scenario_went_through_the_balancer_without_errors(results: dict[str, Any]) -> None:
    assert results["nodes"] == 2
    assert results["balancer"].startswith("HAProxy")
    assert set(results["scenarios"]) == {"client_credentials"}
    for name, figure in results["scenarios"].items():
        assert figure["errors"] == 0, name
        assert figure["runs"] and all(r["requests"] > 0 for r in figure["runs"]), name
        # Round robin: each node did part of the work.
        assert all(cpu > 0 for cpu in figure["node_cpu_us"]), (name, figure["node_cpu_us"])
        assert figure["balancer_cpu_us"] > 0, name
    assert results["errors"] == 0


def test_every_tier_was_read(results: dict[str, Any]) -> None:
    cc = results["scenarios"]["client_credentials"]
    # Every token is a committed write: PostgreSQL worked, wrote WAL and counted commits.
    assert cc["postgres_cpu_us"] > 0
    assert cc["postgres_all_cpu_us"] >= cc["postgres_cpu_us"]
    assert cc["cluster_wal_bytes_per_request"] > 0
    assert cc["wal_bytes_per_request"] is None or cc["wal_bytes_per_request"] > 0
    # Every token is in a transaction that wrote and committed, shared with the tokens its
    # node issued in the same turn of its loop (storage/postgres_groups.py): more than none,
    # never more than one per token (read from the WAL, exact; the settle-free smoke run
    # reads pg_stat_database too early for its count to be exact).
    if cc["write_commits_per_request"] is not None:
        assert 0 < cc["write_commits_per_request"] <= 1.0, cc
    assert cc["commits_per_request"] > 0


def test_capacity_model_and_report(results: dict[str, Any]) -> None:
    model = results["capacity"]
    assert model["tokens_per_node_core"] > 0
    assert model["tokens_per_postgres_core"] > 0
    grid = model["tokens_per_s"]
    # More cores on either side never lowers the ceiling.
    for p in capacity.POSTGRES_CORES:
        column = [grid[f"{n}x{p}"] for n in capacity.NODE_CORES]
        assert column == sorted(column)
    text = "\n".join(results["table"])
    assert "| client_credentials |" in text and "Capacity model" in text

    from bench import report

    rendered = report.render(
        {
            "ratios": {},
            "machine": {
                "cpus": 2,
                "python": "3",
                "sqlite": "3",
                "postgresql_client": "psql",
                "load_average_at_start": [],
            },
            "generated_at": "now",
            "runs": 1,
            "seconds_per_run": 1,
            "connections": 32,
            "configs": {},
            "multinode": results,
        }
    )
    assert "### Many nodes" in rendered
