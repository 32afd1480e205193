"""Reading what each tier of the multi-node benchmark (bench/multinode.py) has spent: the
nodes' and the balancer's CPU, PostgreSQL's CPU by process, the WAL it wrote and the
transactions it committed. All from /proc and PostgreSQL's own views and functions.
"""

from __future__ import annotations

import secrets as random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import servers

# PostgreSQL's own processes that work for every database's commits.
_AUXILIARY = ("walwriter", "checkpointer", "background writer")


def process_cpu(pid: int) -> float:
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
                    found[int(entry.name)] = process_cpu(int(entry.name))
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

    def __init__(self, url: str, admin_url: str, node_pids: list[int], balancer_pid: int, settle: float) -> None:
        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        self.stats = psycopg.connect(admin_url, autocommit=True)
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
            process_cpu(self.balancer_pid),
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
            # An error in this session has dropped the temporary slot already.
            self.conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                (self.slot,),
            )

    def wal(self, before: str, after: str) -> Wal:
        """The cluster's WAL written between two positions, and this database's part of it
        (None without pg_walinspect): the records touching its relations, and every other
        record (the commits) of the transactions that wrote those; and how many of those
        transactions committed (each a WAL flush the client waited for)."""
        row = self.conn.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)::bigint", (after, before)).fetchone()
        cluster = int(row[0]) if row else 0
        if not self.walinspect:
            return Wal(cluster, None, None)
        if cluster <= 0:
            # Nothing was written (a read-only run on an idle cluster): pg_walinspect refuses
            # a start position that is not behind the last flushed one.
            return Wal(0, 0, 0)
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


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent by a set of processes between two readings (a process that started in
    between counts from zero; one that ended in between is lost, rare for PostgreSQL)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items() if cpu >= before.get(pid, 0.0))


def commits_between(before: Mark, after: Mark, name: str) -> tuple[int, int]:
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
