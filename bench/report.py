"""Ratios against the baselines, the issue's targets, and the generated part of
docs/benchmarks.md (between the markers; the prose around it is written by hand)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

TARGETS = (
    ("SQLite: client_credentials tokens/s / oidc-provider 9's", "cc_vs_peer", ">=", 1.5),
    ("SQLite: authorization_code redemptions/s / oidc-provider 9's", "code_vs_peer", ">=", 1.0),
    ("SQLite: refresh_token rotations/s / oidc-provider 9's", "refresh_vs_peer", ">=", 1.0),
    ("SQLite: introspections/s / oidc-provider 9's", "introspection_vs_peer", ">=", 1.0),
    ("/api/v2/users/me requests/s / same-stack hello world", "users_me_vs_baseline", ">=", 0.5),
    ("token p99 / p50 at 32 connections", "cc_p99_over_p50", "<=", 2.0),
    ("RSS of one worker after the run (MB)", "rss_mb", "<=", 150.0),
    ("errors", "errors", "<=", 0),
    ("DPoP-bound /api/v2/users/me CPU per request / bearer's", "dpop_vs_bearer_cpu", "<=", 2.5),
    # PostgreSQL with one worker, against the peer and against SQLite measured in the same run.
    ("PostgreSQL, 1 worker: client_credentials tokens/s / oidc-provider 9's", "pg_cc_vs_peer", ">=", 1.0),
    ("PostgreSQL, 1 worker: client_credentials tokens/s / SQLite's", "pg_cc_vs_sqlite", ">=", 0.8),
    ("PostgreSQL, 1 worker: refresh_token rotations/s / SQLite's", "pg_refresh_vs_sqlite", ">=", 0.8),
    ("PostgreSQL, 1 worker: authorization_code redemptions/s / SQLite's", "pg_code_vs_sqlite", ">=", 0.8),
    ("PostgreSQL, 1 worker: server CPU per client_credentials token / SQLite's", "pg_cc_cpu_vs_sqlite", "<=", 1.3),
)
# Tessera's scenario name for each peer ratio above.
VS_PEER = {
    "cc_vs_peer": "client_credentials",
    "code_vs_peer": "authorization_code",
    "refresh_vs_peer": "refresh_token",
    "introspection_vs_peer": "introspection",
}


def _div(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def _errors(results: dict[str, Any]) -> int:
    """Errors of every measurement: Tessera's configurations, the scale runs, sign-ins, and
    the peer's (a ratio against a peer that failed requests would mean nothing)."""
    figures = [f for c in results["configs"].values() for f in c["scenarios"].values()]
    if results.get("peer"):
        figures += list(results["peer"]["scenarios"].values())
    scale = results.get("scale")
    if scale:
        sizes = [*scale["live"]["sizes"], scale["live"]["empty_again"]]
        figures += [f for size in sizes for f in size["scenarios"].values()]
        figures += [f for f in (scale["purge"]["without_purge"], scale["purge"]["during_purge"]) if f]
    if results.get("passwords"):
        figures.append(results["passwords"]["login"])
    if results.get("multinode"):
        figures += results["multinode"]["scenarios"].values()
    return sum(f["errors"] for f in figures)


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"errors": _errors(results)}
    scale = results.get("scale")
    if scale:
        out["tokens_10m_vs_empty"] = scale["tokens_10m_vs_empty"]
        out["introspection_10m_vs_empty"] = scale["introspection_10m_vs_empty"]
        out["scale_largest_live"] = scale["largest_live"]
        out["purge_p99_during_over_without"] = scale["purge_p99_during_over_without"]
    if not results["configs"]:  # --configs "": the scale or password figures alone
        return out
    main = results["configs"].get("sqlite") or next(iter(results["configs"].values()))
    figures = main["scenarios"]
    out |= {
        "config": f"{main['engine']}-{main['workers']}",
        "vs_baseline": {name: _div(f["rps"], figures["healthz"]["rps"]) for name, f in figures.items()},
        "users_me_vs_baseline": _of(figures, "users_me", "healthz", "rps"),
        "cc_p99_over_p50": _div(*_both(figures, "client_credentials", "p99_ms", "p50_ms")),
        "rss_mb": main["rss_mb"],
    }
    # RFC 9449: what a proof per call costs the server
    out["dpop_vs_bearer_cpu"] = _of(figures, "users_me_dpop", "users_me", "cpu_us_per_request")
    peer = results.get("peer")
    if peer:
        for key, name in VS_PEER.items():
            if name in peer["scenarios"] and name in figures:
                out[key] = _div(figures[name]["rps"], peer["scenarios"][name]["rps"])
    return out | _postgresql(results)


def _of(figures: dict[str, Any], name: str, over: str, field: str) -> float | None:
    """figures[name][field] / figures[over][field], None when a partial run (--scenarios)
    measured only one of them."""
    return _across(figures, figures, name, over, field)


def _across(a: dict[str, Any], b: dict[str, Any], name: str, over: str, field: str) -> float | None:
    """a[name][field] / b[over][field], None when either was not measured."""
    if name not in a or over not in b:
        return None
    return _div(a[name][field], b[over][field])


def _both(figures: dict[str, Any], name: str, field: str, over: str) -> tuple[float | None, float | None]:
    scenario = figures.get(name)
    return (None, None) if scenario is None else (scenario[field], scenario[over])


def _postgresql(results: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL with one worker against the peer and against SQLite, from the same run."""
    pg = results["configs"].get("postgresql", {}).get("scenarios")
    if not pg:
        return {}
    sqlite = results["configs"].get("sqlite", {}).get("scenarios")
    peer = results.get("peer")
    out: dict[str, Any] = {}
    cc = "client_credentials"
    if peer:
        out["pg_cc_vs_peer"] = _across(pg, peer["scenarios"], cc, cc, "rps")
    if sqlite:
        for name, key in ((cc, "cc"), ("refresh_token", "refresh"), ("authorization_code", "code")):
            out[f"pg_{key}_vs_sqlite"] = _across(pg, sqlite, name, name, "rps")
        out["pg_cc_cpu_vs_sqlite"] = _across(pg, sqlite, cc, cc, "cpu_us_per_request")
    return out


def _met(value: float | None, op: str, target: float) -> str:
    if value is None:
        return "not measured"
    ok = value >= target if op == ">=" else value <= target
    return "met" if ok else "**missed**"


def _config_table(config: dict[str, Any], peer: dict[str, Any] | None) -> list[str]:
    base = config["scenarios"]["healthz"]["rps"]
    lines = [
        "| scenario | requests/s (runs) | p50 ms | p99 ms | CPU us/request | / baseline | / peer | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in config["scenarios"].items():
        runs = ", ".join(f"{r['rps']:.0f}" for r in f["runs"])
        peer_rps = peer["scenarios"].get(name, {}).get("rps") if peer else None
        vs_peer = f"{f['rps'] / peer_rps:.2f}" if peer_rps else ""
        lines.append(
            f"| {name} | {f['rps']:.0f} ({runs}) | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | "
            f"{f['cpu_us_per_request']:.0f} | {f['rps'] / base:.2f} | {vs_peer} | {f['errors']} |"
        )
    lines.append(f"\nRSS of one worker after the runs: {config['rss_mb']:.0f} MB.")
    return lines


def render(results: dict[str, Any]) -> str:
    r = results["ratios"]
    m = results["machine"]
    lines = [
        f"Measured {results['generated_at']} on {m['cpus']} CPUs, Python {m['python']}, SQLite {m['sqlite']}, "
        f"{m['postgresql_client']}; load average at start {' '.join(m['load_average_at_start'])}. "
        f"{results['runs']} runs of {results['seconds_per_run']:.0f} s per scenario, {results['connections']} connections, "
        "server on CPU 0, wrk on CPU 1.",
        "",
        "### Targets (SQLite with one worker unless the figure says otherwise)",
        "",
        "| figure | target | measured | |",
        "|---|---|---|---|",
    ]
    for label, key, op, target in TARGETS:
        value = r.get(key)
        lines.append(f"| {label} | {op} {target:g} | {'' if value is None else value} | {_met(value, op, target)} |")
    distinct = r.get("vs_baseline", {}).get("users_me_distinct")
    if distinct is not None:
        lines.append(
            f"| /api/v2/users/me with 10,000 tokens in turn (none remembered) / hello world | (none) | {distinct} | |"
        )
    if results.get("scale"):
        stored = f"{r['scale_largest_live']:,}"
        value = r.get("tokens_10m_vs_empty")
        lines.append(
            f"| tokens/s with {stored} stored / with an empty store | >= 0.9 | {'' if value is None else value} "
            f"| {_met(value, '>=', 0.9)} |"
        )
        value = r.get("introspection_10m_vs_empty")
        lines.append(f"| introspections/s with {stored} stored / with an empty store | (none) | {value} | |")
    else:
        lines.append("| tokens/s with 10M stored / with an empty store | >= 0.9 | | not measured (`--scale`) |")
    peer = results.get("peer")
    for key, config in results["configs"].items():
        lines += ["", f"### {key} ({config['workers']} worker{'s' if config['workers'] > 1 else ''})", ""]
        lines += _config_table(config, peer)
    if peer:
        lines += [
            "",
            f"### Peer: {peer['name']} (in-memory adapter)",
            "",
            "| scenario | requests/s (runs) | p50 ms | p99 ms | CPU us/request | errors |",
            "|---|---|---|---|---|---|",
        ]
        for name, f in peer["scenarios"].items():
            runs = ", ".join(f"{x['rps']:.0f}" for x in f["runs"])
            lines.append(
                f"| {name} | {f['rps']:.0f} ({runs}) | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['cpu_us_per_request']:.0f} | {f['errors']} |"
            )
        lines.append(f"\nRSS after the runs: {peer['rss_mb']:.0f} MB.")
    scale = results.get("scale")
    if scale:
        lines += ["", "### Scale", "", *list(scale.get("table", []))]
    if results.get("passwords"):
        lines += ["", "### Password sign-in", "", *_passwords(results["passwords"])]
    if results.get("multinode"):
        lines += ["", "### Many nodes", "", *list(results["multinode"]["table"])]
    return "\n".join(lines)


def _passwords(pw: dict[str, Any]) -> list[str]:
    p, raw, login = pw["parameters"], pw["raw_verify"], pw["login"]
    runs = ", ".join(f"{x['rps']:.1f}" for x in login["runs"])
    return [
        f"{p['algorithm']}, memory {p['memory_kib']} KiB ({p['memory_kib'] / 1024:g} MiB), {p['time_cost']} passes, "
        f"{p['parallelism']} lane, {p['hash_len']}-byte hash, {p['salt_len']}-byte salt (argon2-cffi "
        f"{p['argon2_cffi']}; tessera/passwords.py). Why: {pw['rationale']}",
        "",
        "| measured on one core | per second | latency |",
        "|---|---|---|",
        f"| argon2id verify in process (CPU 0, {raw['verifications']} in {raw['seconds']:g} s) | {raw['per_s']:.1f} "
        f"| {raw['ms_each']:.2f} ms each, {raw['cpu_ms_each']:.2f} ms CPU |",
        f"| successful POST /access/login through the server, {login['connections']} connections (runs: {runs}) "
        f"| {login['rps']:.1f} | p50 {login['p50_ms']:.1f} ms, p99 {login['p99_ms']:.1f} ms; "
        f"{login['cpu_us_per_request'] / 1000:.1f} ms server CPU per sign-in; errors {login['errors']} |",
    ]


def write_docs(results: dict[str, Any]) -> None:
    text = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    generated = f"{START}\n<!-- written by `make bench` (bench/report.py); edit the prose outside the markers -->\n\n{render(results)}\n\n{END}"
    text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: generated, text, flags=re.S)
    DOCS.write_text(text)
