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
import secrets as random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench import seed, servers
from bench.common import HOST, RUNS, SECRET_KEY, client_credentials_scenario, introspection_scenario
from bench.wrk import Measured, Scenario, run

POSTGRES_ADMIN = os.environ.get("TESSERA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NODES = 2
SCENARIOS = ("client_credentials", "introspection", "users_me")
SETTLE = 11.0
# PostgreSQL's own processes that work for every database's commits.
_AUXILIARY = ("walwriter", "checkpointer", "background writer")

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


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / servers.CLOCK_TICKS


def _all_postgres() -> dict[int, float]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = _process_cpu(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


@dataclass
class Cpu:
    """CPU seconds so far: each node's, the balancer's, PostgreSQL's by pid."""

    nodes: list[float]
    balancer: float
    postgres_all: dict[int, float]
    postgres_ours: dict[int, float]


@dataclass
class Mark:
    """Where the WAL was, and commits by database, once the counters have settled."""

    wal_lsn: str
    commits: dict[str, int]


@dataclass
class Wal:
    cluster_bytes: int
    bytes: int | None  # this database's records (pg_walinspect)
    commits: int | None  # commit records of this database's writing transactions


class Probe:
    """Reads every tier's counters. Counters are read over a connection to the maintenance
    database, so that reading them adds no commit to the benchmark's database; the WAL's
    records over one to the benchmark's database, where pg_walinspect is installed."""

    def __init__(self, url: str, node_pids: list[int], balancer_pid: int, settle: float) -> None:
        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        self.stats = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
        self.node_pids = node_pids
        self.balancer_pid = balancer_pid
        self.settle = settle
        row = self.conn.execute("SELECT current_database(), oid FROM pg_database WHERE datname = current_database()")
        self.name, self.oid = row.fetchone() or ("", 0)
        self.slot = f"tessera_bench_{random.token_hex(4)}"
        # pg_walinspect (PostgreSQL 15's contrib) reads the WAL's records, so that this
        # database's share of the cluster's WAL can be told apart.
        try:
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            self.walinspect = True
        except psycopg.Error:
            self.walinspect = False

    def cpu(self) -> Cpu:
        ours = [
            pid
            for (pid,) in self.stats.execute(
                "SELECT pid FROM pg_stat_activity WHERE (datname = %s AND pid <> %s) OR backend_type = ANY(%s)",
                (self.name, self.conn.info.backend_pid, list(_AUXILIARY)),
            ).fetchall()
        ]
        everything = _all_postgres()
        return Cpu(
            [servers.cpu_seconds(pid) for pid in self.node_pids],
            _process_cpu(self.balancer_pid),
            everything,
            {pid: everything.get(pid, 0.0) for pid in ours},
        )

    def mark(self) -> Mark:
        """A busy backend publishes its counters at most once a second, and once idle what
        it still holds up to 10 s later (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): wait
        `settle` seconds first, so that the commits of the run before are all counted."""
        time.sleep(self.settle)
        rows = self.stats.execute("SELECT datname, xact_commit FROM pg_stat_database WHERE datname IS NOT NULL")
        commits = {name: int(n) for name, n in rows.fetchall()}
        (lsn,) = self.stats.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone() or ("0/0",)
        return Mark(lsn, commits)

    @contextmanager
    def wal_held(self) -> Iterator[None]:
        """Keep the WAL written inside the block until it has been read: a checkpoint
        (another database's CREATE or DROP DATABASE forces one) would otherwise recycle it.
        A temporary slot: dropped at the end, or at the latest when this connection closes."""
        if not self.walinspect:
            yield
            return
        self.conn.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", (self.slot,))
        try:
            yield
        finally:
            self.conn.execute("SELECT pg_drop_replication_slot(%s)", (self.slot,))

    def wal(self, before: str, after: str) -> Wal:
        """The cluster's WAL written between two positions, and this database's part of it
        (None without pg_walinspect): the records touching its relations, and every other
        record (the commits) of the transactions that wrote those; and how many of those
        transactions committed (each a WAL flush the client waited for)."""
        row = self.conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)::bigint", (after, before)).fetchone()
        cluster = int(row[0]) if row else 0
        if not self.walinspect:
            return Wal(cluster, None, None)
        ours = self.conn.execute(
            "WITH r AS (SELECT xid::text AS xid, record_length, block_ref, resource_manager, record_type"
            "  FROM pg_get_wal_records_info(%(before)s::pg_lsn, %(after)s::pg_lsn)),"
            " x AS (SELECT DISTINCT xid FROM r WHERE xid <> '0' AND block_ref LIKE %(rel)s)"
            " SELECT coalesce(sum(record_length), 0)::bigint,"
            "  count(*) FILTER (WHERE resource_manager = 'Transaction' AND record_type LIKE 'COMMIT%%')"
            " FROM r WHERE block_ref LIKE %(rel)s OR xid IN (SELECT xid FROM x)",
            {"before": before, "after": after, "rel": f"%/{self.oid}/%"},
        ).fetchone()
        return Wal(cluster, int(ours[0]), int(ours[1])) if ours else Wal(cluster, 0, 0)

    def close(self) -> None:
        self.conn.close()
        self.stats.close()


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent by a set of processes between two readings (a process that started in
    between counts from zero; one that ended in between is lost, rare for PostgreSQL)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items() if cpu >= before.get(pid, 0.0))


def _commits(before: Mark, after: Mark, name: str) -> tuple[int, int]:
    """This database's commits between two marks, and every other database's (one made
    in between, or dropped and made again under the same name, counts from zero; one
    dropped in between is not counted)."""
    ours = after.commits.get(name, 0) - before.commits.get(name, 0)
    others = sum(
        n - before.commits.get(db, 0) if n >= before.commits.get(db, 0) else n
        for db, n in after.commits.items()
        if db != name
    )
    return ours, others


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
        Run(m, before, after, *_commits(marks[i], marks[i + 1], probe.name), wals[i])
        for i, (m, before, after) in enumerate(timed)
    ]


def _figure(name: str, runs: list[Run]) -> dict[str, Any]:
    requests = sum(r.measured.requests for r in runs) or 1
    per = 1e6 / requests  # seconds -> microseconds per request

    def us(value: float) -> float:
        return round(value * per, 1)

    nodes = [sum(r.cpu_after.nodes[i] - r.cpu_before.nodes[i] for r in runs) for i in range(NODES)]
    pg_ours = sum(_spent(r.cpu_before.postgres_ours, r.cpu_after.postgres_ours) for r in runs)
    pg_all = sum(_spent(r.cpu_before.postgres_all, r.cpu_after.postgres_all) for r in runs)
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


def _fresh_database() -> str:
    name = f"tessera_bench_nodes_{random.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return "postgresql+psycopg://" + POSTGRES_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"


def _drop_database(url: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


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
    url = _fresh_database()
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
            probe = Probe(url, [n.pid for n in nodes], balancer.pid, settle)
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
        result["capacity"] = capacity(figures["client_credentials"])
        result["table"] = table(result)
        return result
    finally:
        _drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)


def _haproxy_version() -> str:
    done = subprocess.run([_haproxy() or "haproxy", "-v"], capture_output=True, text=True, check=False)
    first = done.stdout.splitlines()[0] if done.stdout else "haproxy"
    return " ".join(first.split()[:3])


# The capacity model (docs/scaling.md): node cores and PostgreSQL cores, each spending the
# measured CPU per token; whichever runs out first is the ceiling.
NODE_CORES = (2, 4, 8, 16, 32)
POSTGRES_CORES = (2, 4, 8, 16)


def capacity(cc: dict[str, Any]) -> dict[str, Any]:
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
