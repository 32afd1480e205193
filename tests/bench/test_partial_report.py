"""The report of a partial run (`python -m bench.run --scenarios ...`): ratios whose two
figures were measured are computed, the others are None, and nothing fails for the
scenarios that were left out."""

from __future__ import annotations

from typing import Any

from bench import report


def _figure(rps: float, cpu: float) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0, "cpu_us_per_request": cpu, "runs": []}


def _config(**scenarios: dict[str, Any]) -> dict[str, Any]:
    return {"engine": "sqlite", "workers": 1, "rss_mb": 90.0, "scenarios": scenarios}


def test_a_dpop_only_run_gives_the_dpop_ratio_and_none_for_the_rest() -> None:
    sqlite = _config(healthz=_figure(20000, 40), users_me=_figure(10000, 60), users_me_dpop=_figure(4000, 150))
    ratios = report.ratios({"configs": {"sqlite": sqlite}})
    assert ratios["dpop_vs_bearer_cpu"] == 2.5
    assert ratios["users_me_vs_baseline"] == 0.5
    assert ratios["cc_p99_over_p50"] is None
    assert ratios["errors"] == 0


def test_postgresql_ratios_need_the_same_scenario_on_both_engines() -> None:
    sqlite = _config(healthz=_figure(20000, 40), client_credentials=_figure(5000, 200))
    postgresql = _config(healthz=_figure(20000, 40), client_credentials=_figure(4000, 250))
    ratios = report.ratios({"configs": {"sqlite": sqlite, "postgresql": postgresql}})
    assert ratios["pg_cc_vs_sqlite"] == 0.8
    assert ratios["pg_cc_cpu_vs_sqlite"] == 1.25
    assert ratios["pg_code_vs_sqlite"] is None
    assert ratios["pg_refresh_vs_sqlite"] is None
    assert ratios["dpop_vs_bearer_cpu"] is None
