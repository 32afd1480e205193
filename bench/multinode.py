"""Many nodes: two `tessera serve` processes (one worker each) sharing one PostgreSQL
database, behind HAProxy (Debian's package), round robin over kept-alive connections.

What it measures, per scenario (client_credentials, introspection, users_me), through the
balancer with every answer checked (errors must be 0): requests per second, and what each
tier spent per request, read before and after each run:

- each Tessera node's CPU (user + system of its processes, /proc);
- the balancer's CPU;
- PostgreSQL's CPU, two ways: every `postgres` process on the machine (as asked of a
  capacity model, but on a shared machine it includes other databases' work), and only
  the backends connected to this benchmark's database plus the server's WAL writer,
  checkpointer and background writer (what these nodes cost it);
- WAL bytes written: the cluster's (`pg_wal_lsn_diff` of `pg_current_wal_flush_lsn()`),
  which on a shared server includes other databases' writes (their commits during the
  run are counted and reported), and this database's part of it, read record by record
  with pg_walinspect (PostgreSQL 15's contrib): the records that touch its relations and
  the commit records of their transactions;
- transactions committed in this database (`pg_stat_database.xact_commit`).

The counters are read by bench/tiers.py; the capacity model drawn from them, and the
report's lines, are bench/capacity.py.

Placement on a 2-core machine: both nodes on CPU 0 (so, like `postgresql-2`, they share a
core: the figures are costs, not a speed-up), HAProxy and wrk on CPU 1, PostgreSQL where
the kernel puts it.

    python -m bench.multinode [--seconds 10] [--runs 2] [--settle 11] [--scenarios ...] [--output PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import capacity, seed, servers
from bench.common import HOST, RUNS, SECRET_KEY, client_credentials_scenario, introspection_scenario
from bench.databases import POSTGRES_ADMIN, drop_database, fresh_database
from bench.tiers import Cpu, Probe, Wal, commits_between, spent
from bench.wrk import Measured, Scenario, run

NODES = 2
SCENARIOS = ("client_credentials", "introspection", "users_me")
SETTLE = 11.0

_HAPROXY = """\
global
    nbthread 1
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s

frontend tessera
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz hdr Host {host}
{servers}
"""


def _haproxy() -> str | None:
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)


def haproxy_missing() -> str | None:
    """Why the multi-node configuration cannot run here, or None."""
    if _haproxy() is None:
        return "haproxy is not installed (scripts/ensure-test-packages haproxy, or apt-get install haproxy)"
    return None


@contextmanager
def haproxy(node_ports: list[int], folder: Path) -> Iterator[servers.Running]:
    port = servers.free_port()
    lines = "\n".join(f"    server node{i} 127.0.0.1:{p} check inter 2s" for i, p in enumerate(node_ports))
    config = folder / "haproxy.cfg"
    config.write_text(_HAPROXY.format(port=port, host=HOST["Host"], servers=lines))
    base = f"http://127.0.0.1:{port}"
    # -db: in the foreground, so that the pid is HAProxy's own (taskset execs it).
    command = ["taskset", "-c", "1", _haproxy() or "haproxy", "-db", "-f", str(config)]
    with servers._process(
        command, dict(os.environ), folder / "haproxy.log", f"{base}/healthz", HOST["Host"], base
    ) as r:
        yield r


@dataclass
class Run:
    measured: Measured
    cpu_before: Cpu
    cpu_after: Cpu
    commits: int  # this database's
    other_commits: int
    wal: Wal


def measure(probe: Probe, scenario: Scenario, base: str, seconds: float, runs: int) -> list[Run]:
    """`runs` runs, CPU read just before and just after each; the marks between runs (the
    commits and the WAL position) shared by the run before and the run after."""
    with probe.wal_held():
        marks = [probe.mark()]
        timed = []
        for _ in range(runs):
            before = probe.cpu()
            measured = run(scenario, base, seconds)
            timed.append((measured, before, probe.cpu()))
            marks.append(probe.mark())
        wals = [probe.wal(a.wal_lsn, b.wal_lsn) for a, b in itertools.pairwise(marks)]
    return [
        Run(m, before, after, *commits_between(marks[i], marks[i + 1], probe.name), wals[i])
        for i, (m, before, after) in enumerate(timed)
    ]


def _figure(name: str, runs: list[Run]) -> dict[str, Any]:
    requests = sum(r.measured.requests for r in runs) or 1
    per = 1e6 / requests  # seconds -> microseconds per request

    def us(value: float) -> float:
        return round(value * per, 1)

    nodes = [sum(r.cpu_after.nodes[i] - r.cpu_before.nodes[i] for r in runs) for i in range(NODES)]
    pg_ours = sum(spent(r.cpu_before.postgres_ours, r.cpu_after.postgres_ours) for r in runs)
    pg_all = sum(spent(r.cpu_before.postgres_all, r.cpu_after.postgres_all) for r in runs)
    best = max((r.measured for r in runs), key=lambda m: m.rps)
    ours_wal = [r.wal.bytes for r in runs]
    write_commits = [r.wal.commits for r in runs]
    return {
        "scenario": name,
        "runs": [
            {"requests": r.measured.requests, "rps": round(r.measured.rps, 1), "errors": r.measured.errors}
            for r in runs
        ],
        "rps": round(sum(r.measured.rps for r in runs) / len(runs), 1),
        "p50_ms": best.p50_ms,
        "p99_ms": best.p99_ms,
        "errors": sum(r.measured.errors for r in runs),
        "node_cpu_us": [us(n) for n in nodes],
        "nodes_cpu_us": us(sum(nodes)),
        "balancer_cpu_us": us(sum(r.cpu_after.balancer - r.cpu_before.balancer for r in runs)),
        "postgres_cpu_us": us(pg_ours),
        "postgres_all_cpu_us": us(pg_all),
        "wal_bytes_per_request": None if None in ours_wal else round(sum(w or 0 for w in ours_wal) / requests, 1),
        "cluster_wal_bytes_per_request": round(sum(r.wal.cluster_bytes for r in runs) / requests, 1),
        "write_commits_per_request": None
        if None in write_commits
        else round(sum(c or 0 for c in write_commits) / requests, 3),
        "commits_per_request": round(sum(r.commits for r in runs) / requests, 3),
        "other_databases_commits": sum(r.other_commits for r in runs),
    }


def run_all(
    seconds: float,
    log: Callable[[str], None],
    runs: int = RUNS,
    settle: float = SETTLE,
    only: tuple[str, ...] = SCENARIOS,
) -> dict[str, Any]:
    """The multi-node configuration, measured; its report lines in "table". `settle`: see
    Probe.mark (0: commits read at once, approximate, as in the smoke test);
    `only`: the scenarios to run (client_credentials always, the capacity model's)."""
    missing = haproxy_missing()
    if missing:
        raise RuntimeError(missing)
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-nodes-"))
    url = fresh_database("postgresql", folder, prefix="tessera_bench_nodes")
    try:
        seeded = seed.seed(url)
        live = seed.mint_tokens(url, seeded, 1)[0]
        scenarios = [
            client_credentials_scenario(seeded),
            introspection_scenario(seeded, live),
            Scenario(
                "users_me", "GET", "/api/v2/users/me", {**HOST, "Authorization": f"Bearer {live}"}, expect_body='"user"'
            ),
        ]
        scenarios = [s for s in scenarios if s.name in only or s.name == "client_credentials"]
        figures: dict[str, Any] = {}
        with ExitStack() as stack:
            nodes = [
                stack.enter_context(servers.tessera(url, SECRET_KEY, folder / f"node{i}.log", cpus="0"))
                for i in range(NODES)
            ]
            balancer = stack.enter_context(haproxy([int(n.base.rsplit(":", 1)[1]) for n in nodes], folder))
            probe = Probe(url, POSTGRES_ADMIN, [n.pid for n in nodes], balancer.pid, settle)
            stack.callback(probe.close)
            for scenario in scenarios:
                run(scenario, balancer.base, min(seconds, 2.0))  # unmeasured warm-up
                figures[scenario.name] = _figure(scenario.name, measure(probe, scenario, balancer.base, seconds, runs))
                f = figures[scenario.name]
                log(
                    f"  {NODES} nodes {scenario.name:20} {f['rps']:9.1f}/s errors {f['errors']}  CPU us/request: "
                    f"nodes {f['nodes_cpu_us']} balancer {f['balancer_cpu_us']} postgres {f['postgres_cpu_us']} "
                    f"(all {f['postgres_all_cpu_us']}); WAL {f['wal_bytes_per_request']} B "
                    f"(cluster {f['cluster_wal_bytes_per_request']} B), "
                    f"commits {f['commits_per_request']} (writing {f['write_commits_per_request']})"
                )
            rss = max(servers.rss_mb(n.pid) for n in nodes)
        result: dict[str, Any] = {
            "nodes": NODES,
            "workers_per_node": 1,
            "balancer": _haproxy_version(),
            "runs": runs,
            "seconds_per_run": seconds,
            "scenarios": figures,
            "rss_mb": round(rss, 1),
            "errors": sum(f["errors"] for f in figures.values()),
        }
        result["capacity"] = capacity.model(figures["client_credentials"])
        result["table"] = capacity.table(result)
        return result
    finally:
        drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)


def _haproxy_version() -> str:
    done = subprocess.run([_haproxy() or "haproxy", "-v"], capture_output=True, text=True, check=False)
    first = done.stdout.splitlines()[0] if done.stdout else "haproxy"
    return " ".join(first.split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--settle", type=float, default=SETTLE, help="seconds to wait before reading commits (0: at once, approximate)"
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    missing = haproxy_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    result = run_all(
        args.seconds,
        lambda line: print(line, flush=True),
        runs=args.runs,
        settle=args.settle,
        only=tuple(args.scenarios.split(",")),
    )
    if args.output:
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(result["table"]))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
