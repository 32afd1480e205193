"""A smoke run of the benchmark suite (`python -m bench.run --smoke`): a second of load per
scenario against a real server on SQLite, the scale experiments at tiny sizes and the
password figures, no peer and no docs. Checks the harness end to end and the JSON it
writes, not the figures themselves: those belong to `make bench` on a quiet machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "healthz",
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "introspection",
    "users_me",
    "users_me_distinct",
    "users_me_dpop",
}


def _check_figure(where: str, figure: dict[str, Any]) -> None:
    assert figure["runs"], f"{where}: no run"
    for run in figure["runs"]:
        assert run["requests"] > 0, f"{where}: a run made no request"
        assert run["errors"] == 0, f"{where}: {run['errors']} errors"
    assert figure["rps"] > 0, where
    assert 0 < figure["p50_ms"] <= figure["p99_ms"], where
    assert figure["errors"] == 0, where


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert shutil.which("wrk"), "wrk is needed: `make test` installs it (scripts/ensure-test-packages)"
    assert shutil.which("taskset"), "taskset (util-linux) is needed"
    output = tmp_path_factory.mktemp("bench") / "r.json"
    docs = ROOT / "docs" / "benchmarks.md"
    docs_before = docs.read_text() if docs.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"bench.run --smoke failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert (docs.read_text() if docs.exists() else None) == docs_before, "--smoke must not rewrite the docs"
    data: dict[str, Any] = json.loads(output.read_text())
    return data


def test_every_scenario_was_measured_without_errors(results: dict[str, Any]) -> None:
    assert set(results["configs"]) == {"sqlite"}
    config = results["configs"]["sqlite"]
    assert set(config["scenarios"]) == SCENARIOS
    for name, figure in config["scenarios"].items():
        _check_figure(name, figure)
        assert len(figure["runs"]) == results["runs"]
        assert figure["cpu_us_per_request"] > 0, name
    assert config["rss_mb"] > 0
    assert "peer" not in results


def test_ratios_are_present(results: dict[str, Any]) -> None:
    ratios = results["ratios"]
    assert set(ratios["vs_baseline"]) == SCENARIOS
    assert ratios["vs_baseline"]["healthz"] == 1.0
    for key in (
        "users_me_vs_baseline",
        "dpop_vs_bearer_cpu",
        "cc_p99_over_p50",
        "rss_mb",
        "tokens_10m_vs_empty",
        "introspection_10m_vs_empty",
    ):
        assert isinstance(ratios[key], float) and ratios[key] > 0, key
    assert ratios["errors"] == 0
    assert "cc_vs_peer" not in ratios  # no peer in the smoke run


def test_scale_experiments_ran_at_tiny_sizes(results: dict[str, Any]) -> None:
    scale = results["scale"]
    sizes = scale["live"]["sizes"]
    assert [s["live_tokens"] for s in sizes] == sorted(s["live_tokens"] for s in sizes)
    assert sizes[0]["live_tokens"] == 0
    assert scale["largest_live"] == sizes[-1]["live_tokens"] > 0
    assert scale["live"]["empty_again"]["live_tokens"] == 0
    for size in [*sizes, scale["live"]["empty_again"]]:
        assert size["rows_at_start"] >= size["live_tokens"]
        for name in ("client_credentials", "introspection"):
            _check_figure(f"{size['live_tokens']} {name}", size["scenarios"][name])
        assert size["idle_purge_pass_s"] >= 0
    purge = scale["purge"]
    assert purge["expired_rows_before"] == purge["expired_tokens"] > 0
    assert purge["purged_access_tokens_logged"] == purge["expired_tokens"], "the server's purge took every row"
    assert purge["duration_s"] is not None and purge["duration_s"] >= 0
    _check_figure("purge off", purge["without_purge"])
    if purge["during_purge"] is not None:
        _check_figure("during purge", purge["during_purge"])
    assert scale["table"] and all(isinstance(line, str) for line in scale["table"])


def test_password_figures(results: dict[str, Any]) -> None:
    passwords = results["passwords"]
    assert passwords["parameters"]["algorithm"] == "argon2id"
    assert passwords["rationale"]
    assert passwords["raw_verify"]["per_s"] > 0
    _check_figure("login", passwords["login"])


def test_report_renders_every_section(results: dict[str, Any]) -> None:
    from bench import report

    text = report.render(results)
    for heading in ("### Targets", "### sqlite (1 worker)", "### Scale", "### Password sign-in"):
        assert heading in text
    assert "argon2id" in text
