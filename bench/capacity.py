"""The capacity model of docs/scaling.md, from the multi-node benchmark's figures
(bench/multinode.py): node cores and PostgreSQL cores, each spending the measured CPU per
token; whichever runs out first is the ceiling. And the report's lines for both.
"""

from __future__ import annotations

from typing import Any

NODE_CORES = (2, 4, 8, 16, 32)
POSTGRES_CORES = (2, 4, 8, 16)


def model(cc: dict[str, Any]) -> dict[str, Any]:
    node_us, pg_us = cc["nodes_cpu_us"], cc["postgres_cpu_us"]
    wal = (
        cc["wal_bytes_per_request"] if cc["wal_bytes_per_request"] is not None else cc["cluster_wal_bytes_per_request"]
    )
    grid = {
        f"{n}x{p}": round(min(n * 1e6 / node_us, p * 1e6 / pg_us)) if node_us and pg_us else None
        for n in NODE_CORES
        for p in POSTGRES_CORES
    }
    return {
        "node_us_per_token": node_us,
        "postgres_us_per_token": pg_us,
        "wal_bytes_per_token": wal,
        "tokens_per_node_core": round(1e6 / node_us) if node_us else None,
        "tokens_per_postgres_core": round(1e6 / pg_us) if pg_us else None,
        "node_cores_per_postgres_core": round(pg_us and node_us / pg_us, 2),
        "tokens_per_s": grid,
    }


def _bytes(value: float | None) -> str:
    return "not read" if value is None else f"{value:.0f}"


def _count(value: float | None) -> str:
    return "not read" if value is None else f"{value:.2f}"


def table(result: dict[str, Any]) -> list[str]:
    """The report's lines (docs/benchmarks.md, "Many nodes")."""
    lines = [
        f"{result['nodes']} `tessera serve` processes (PostgreSQL, {result['workers_per_node']} worker each, both on "
        f"CPU 0) behind {result['balancer']} (round robin, keep-alive, on CPU 1 with wrk), one PostgreSQL; "
        f"{result['runs']} run(s) of {result['seconds_per_run']:g} s per scenario. CPU is per request, in "
        "microseconds: the nodes' (summed), the balancer's, and PostgreSQL's (its backends serving this database "
        "plus its WAL writer, checkpointer and background writer; in brackets every postgres process on the "
        "machine, other databases' work included). WAL bytes per request: this database's records (pg_walinspect); "
        "in brackets the cluster's WAL, to which other databases' commits during the runs (last column) add. "
        "Commits: transactions committed in this database (`pg_stat_database.xact_commit`, reads included), in "
        "brackets those that wrote, counted from the WAL's commit records (each a flush to disk the answer waited for).",
        "",
        "| scenario | requests/s (runs) | p50 ms | p99 ms | errors | nodes CPU us (each) | balancer CPU us "
        "| PostgreSQL CPU us (all) | WAL bytes (cluster's) | commits (writing) | other databases' commits |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in result["scenarios"].items():
        runs = ", ".join(f"{r['rps']:.0f}" for r in f["runs"])
        each = " + ".join(f"{c:.0f}" for c in f["node_cpu_us"])
        lines.append(
            f"| {name} | {f['rps']:.0f} ({runs}) | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} | {f['errors']} "
            f"| {f['nodes_cpu_us']:.0f} ({each}) | {f['balancer_cpu_us']:.0f} | {f['postgres_cpu_us']:.0f} "
            f"({f['postgres_all_cpu_us']:.0f}) | {_bytes(f['wal_bytes_per_request'])} "
            f"({f['cluster_wal_bytes_per_request']:.0f}) | {f['commits_per_request']:.2f} "
            f"({_count(f['write_commits_per_request'])}) "
            f"| {f['other_databases_commits']} |"
        )
    c = result["capacity"]
    if c["tokens_per_node_core"] and c["tokens_per_postgres_core"]:
        lines += [
            "",
            f"Capacity model for client_credentials tokens (docs/scaling.md): a node core gives "
            f"{c['tokens_per_node_core']:,} tokens/s, a PostgreSQL core {c['tokens_per_postgres_core']:,}; "
            f"{c['node_cores_per_postgres_core']:g} node cores keep one PostgreSQL core busy. Each token writes "
            f"{c['wal_bytes_per_token']:.0f} bytes of WAL. Tokens/s = min(node cores x {c['tokens_per_node_core']:,}, "
            f"PostgreSQL cores x {c['tokens_per_postgres_core']:,}), balancer not counted:",
            "",
            "| node cores (all nodes) | " + " | ".join(f"PostgreSQL {p} cores" for p in POSTGRES_CORES) + " |",
            "|---|" + "---|" * len(POSTGRES_CORES),
        ]
        for n in NODE_CORES:
            cells = []
            for p in POSTGRES_CORES:
                value = c["tokens_per_s"][f"{n}x{p}"]
                bound = "" if n * c["tokens_per_node_core"] <= p * c["tokens_per_postgres_core"] else " (PostgreSQL)"
                cells.append(f"{value:,}{bound}")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        ceiling = c["tokens_per_s"][f"{NODE_CORES[-1]}x8"]
        lines += [
            "",
            f"A PostgreSQL of 8 cores tops out near {ceiling:,} tokens/s, writing "
            f"{ceiling * c['wal_bytes_per_token'] / 2**20:.1f} MiB of WAL per second (tokens/s x WAL bytes per token).",
        ]
    return lines
