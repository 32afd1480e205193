"""Scale experiments (python -m bench.run --scale), on SQLite with one worker, the server
started as for the main figures (pinned to CPU 0, wrk on CPU 1, 32 connections):

1. Does cost grow with the table? client_credentials tokens and introspection, measured
   with an empty store, then with 1,000,000 and with 10,000,000 live access tokens
   bulk-loaded into it (bench/bulk.py), each on a freshly started server, and the empty
   store once more at the end (the ratios divide by the mean of the two empty figures).
   Beside each size: how long one pass of the periodic purge takes when there is nothing
   to delete, timed in this process with Tessera's own purge function on the same file.
2. The purge while serving: 1,000,000 access tokens that expired two hours ago (beyond
   storage/purge.py's RETENTION, so the purge takes them). client_credentials is measured
   on a server with the periodic purge off, then on one with it on (every PURGE_INTERVAL
   seconds; the first pass starts within the first interval), in back-to-back runs until
   the purge is done. A thread counts the expired rows left every POLL seconds on a
   read-only connection of its own, which dates the purge's start and end.

Sizes are parameters (Sizes): the smoke run uses tiny ones.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import bulk, seed, servers
from bench.common import (
    RUNS,
    SECRET_KEY,
    Figure,
    client_credentials_scenario,
    introspection_scenario,
    warm_up,
)
from bench.wrk import Measured, Scenario, run
from tessera.storage import purge
from tessera.storage.database import open_database

PURGE_INTERVAL = 1  # seconds between passes (TESSERA_PURGE_INTERVAL); the default is 600
POLL = 0.5  # seconds between counts of the expired rows left
PURGE_TIMEOUT = 900.0
MAX_RUNS_DURING_PURGE = 40


@dataclass(frozen=True)
class Sizes:
    live: tuple[int, ...] = (1_000_000, 10_000_000)  # live access tokens, in increasing order
    expired: int = 1_000_000  # expired access tokens for the purge experiment
    runs: int = RUNS


FULL = Sizes()
SMOKE = Sizes(live=(5_000,), expired=20_000, runs=1)

Log = Callable[[str], None]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _fresh(prefix: str) -> tuple[Path, str, seed.Seeded]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    url = f"sqlite:///{folder / 'bench.db'}"
    return folder, url, seed.seed(url)


def _one_run(scenario: Scenario, running: servers.Running, seconds: float) -> tuple[Measured, float]:
    """One wrk run and the server's CPU seconds meanwhile."""
    before = servers.cpu_seconds(running.pid)
    measured = run(scenario, running.base, seconds)
    return measured, servers.cpu_seconds(running.pid) - before


def _runs(scenario: Scenario, running: servers.Running, seconds: float, runs: int) -> list[tuple[Measured, float]]:
    return [_one_run(scenario, running, seconds) for _ in range(runs)]


def idle_purge_pass(url: str) -> float:
    """Seconds one pass of Tessera's purge takes when nothing is dead, on this store."""
    db = open_database(url)
    try:
        started = time.perf_counter()
        asyncio.run(purge.purge(db, time.time()))
        return round(time.perf_counter() - started, 3)
    finally:
        db.close()


def _size(
    url: str, seeded: seed.Seeded, folder: Path, stored: int, seconds: float, sizes: Sizes, log: Log
) -> dict[str, Any]:
    token = seed.mint_tokens(url, seeded, 1)[0]  # a live token to introspect, minted last
    rows = bulk.count_access_tokens(url)
    cc, introspection = client_credentials_scenario(seeded), introspection_scenario(seeded, token)
    with servers.tessera(url, SECRET_KEY, folder / f"server-{stored}.log") as running:
        warm_up(cc, running, seconds)
        figures = {
            s.name: asdict(Figure.of(s.name, _runs(s, running, seconds, sizes.runs))) for s in (cc, introspection)
        }
        rss = servers.rss_mb(running.pid)
    idle = idle_purge_pass(url)
    for name, f in figures.items():
        log(
            f"  scale {stored:>10,} {name:20} {f['rps']:9.1f}/s p50 {f['p50_ms']:.2f} p99 {f['p99_ms']:.2f} ms errors {f['errors']}"
        )
    log(f"  scale {stored:>10,} idle purge pass {idle:.3f} s")
    return {
        "live_tokens": stored,
        "rows_at_start": rows,
        "scenarios": figures,
        "rss_mb": round(rss, 1),
        "idle_purge_pass_s": idle,
    }


def live_tokens(seconds: float, sizes: Sizes, log: Log) -> dict[str, Any]:
    folder, url, seeded = _fresh("tessera-bench-scale-")
    try:
        measured = [_size(url, seeded, folder, 0, seconds, sizes, log)]
        loaded = 0
        for target in sizes.live:
            took = bulk.load_access_tokens(
                url,
                account_id=seeded.account_id,
                client_id=seeded.web_id,
                model_user=seeded.admin_id,
                count=target - loaded,
            )
            log(
                f"  scale bulk-loaded {target - loaded:,} live tokens in {took:.1f} s ({(target - loaded) / took:,.0f}/s)"
            )
            loaded = target
            measured.append(_size(url, seeded, folder, target, seconds, sizes, log) | {"load_s": round(took, 1)})
        db_mb = round(bulk.sqlite_path(url).stat().st_size / 2**20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        # Freeing 2.5 GB is journalled by the filesystem: without this, the first fsyncs of
        # the next server waited behind it (the empty store's p99 read 140-160 ms).
        os.sync()
    # The empty store once more, on a fresh file, after the big ones: on a shared machine a
    # single measurement of the ratios' denominator is easily disturbed, so they use the
    # mean of both and the table shows how far apart the two are.
    folder, url, seeded = _fresh("tessera-bench-scale-")
    try:
        again = _size(url, seeded, folder, 0, seconds, sizes, log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"sizes": measured, "empty_again": again, "db_mb": db_mb}


def empty_rps(live: dict[str, Any], scenario: str) -> float:
    """The empty store's requests/s: the mean of its two measurements (before and after)."""
    first: float = live["sizes"][0]["scenarios"][scenario]["rps"]
    again: float = live["empty_again"]["scenarios"][scenario]["rps"]
    return (first + again) / 2


class _Watcher(threading.Thread):
    """Counts the rows the purge will take, every POLL seconds, on CPU 1 (the load
    generator's core, not the server's), until none is left."""

    def __init__(self, url: str, horizon: float) -> None:
        super().__init__(daemon=True)
        self.url, self.horizon = url, horizon
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            if len(os.sched_getaffinity(0)) > 1:
                os.sched_setaffinity(0, {1})  # this thread only
        except OSError:
            pass
        while not self.stop.is_set():
            left = bulk.count_access_tokens(self.url, expired_before=self.horizon)
            self.samples.append((time.monotonic(), left))
            if left == 0:
                return
            self.stop.wait(POLL)

    def left(self) -> int | None:
        return self.samples[-1][1] if self.samples else None

    def started_at(self) -> float | None:
        """When the count was first seen below the loaded number (the purge's start, to POLL)."""
        first = self.samples[0][1] if self.samples else 0
        return next((t for t, n in self.samples if n < first), None)

    def done_at(self) -> float | None:
        return next((t for t, n in self.samples if n == 0), None)


def _purged_in_log(log: Path) -> int | None:
    found = re.findall(r"purged \d+ dead rows: \{[^}]*'access_tokens': (\d+)", log.read_text(errors="replace"))
    return sum(int(n) for n in found) if found else None


def purge_while_serving(seconds: float, sizes: Sizes, log: Log) -> dict[str, Any]:
    folder, url, seeded = _fresh("tessera-bench-purge-")
    try:
        took = bulk.load_access_tokens(
            url,
            account_id=seeded.account_id,
            client_id=seeded.web_id,
            model_user=seeded.admin_id,
            count=sizes.expired,
            expired=True,
        )
        log(f"  purge bulk-loaded {sizes.expired:,} expired tokens in {took:.1f} s")
        cc = client_credentials_scenario(seeded)
        with servers.tessera(url, SECRET_KEY, folder / "server-quiet.log") as running:
            warm_up(cc, running, seconds)
            quiet = _runs(cc, running, seconds, sizes.runs)
        left_before = bulk.count_access_tokens(url, expired_before=time.time() - purge.RETENTION)

        watcher = _Watcher(url, time.time() - purge.RETENTION)
        watcher.start()
        server_log = folder / "server-purging.log"
        runs: list[dict[str, Any]] = []
        with servers.tessera(url, SECRET_KEY, server_log, purge_interval=PURGE_INTERVAL) as running:
            warm_up(cc, running, seconds)
            while watcher.done_at() is None and len(runs) < MAX_RUNS_DURING_PURGE:
                start, left_at_start = time.monotonic(), watcher.left()
                measured, cpu = _one_run(cc, running, seconds)
                started = watcher.started_at()
                runs.append(
                    {
                        "measured": measured,
                        "cpu": cpu,
                        # wholly inside the purge: begun (to POLL) before the run and not over after it
                        "inside": started is not None and started <= start and watcher.done_at() is None,
                        "left_at_start": left_at_start,
                        "left_at_end": watcher.left(),
                    }
                )
            watcher.join(PURGE_TIMEOUT)
        watcher.stop.set()
        begun, ended = watcher.started_at(), watcher.done_at()
        duration = round(ended - begun, 1) if begun is not None and ended is not None else None
        inside = [(r["measured"], r["cpu"]) for r in runs if r["inside"]]
        # No run wholly inside (a purge shorter than the warm-up, in the smoke run): the
        # runs that overlapped it, flagged as such in the table.
        during = inside or [(r["measured"], r["cpu"]) for r in runs]
        quiet_f = asdict(Figure.of("client_credentials", quiet))
        during_f = asdict(Figure.of("client_credentials", during)) if during else None
        for label, f in (("without purge", quiet_f), ("during purge", during_f)):
            if f is not None:
                log(
                    f"  purge cc {label:14} {f['rps']:9.1f}/s p50 {f['p50_ms']:.2f} p99 {f['p99_ms']:.2f} ms errors {f['errors']}"
                )
        log(
            f"  purge of {left_before:,} expired tokens took {duration} s; {len(inside)} of {len(runs)} runs wholly inside it"
        )
        return {
            "expired_tokens": sizes.expired,
            "expired_rows_before": left_before,
            "load_s": round(took, 1),
            "purge_interval_s": PURGE_INTERVAL,
            "purge_batch": purge.BATCH,
            "purge_pause_s": purge.PAUSE,
            "duration_s": duration,
            "poll_s": POLL,
            "purged_access_tokens_logged": _purged_in_log(server_log),
            "runs_during_purge": len(runs),
            "runs_wholly_inside": len(inside),
            "max_ms_without": max(m.max_ms for m, _ in quiet),
            "max_ms_during": max((m.max_ms for m, _ in during), default=None),
            "without_purge": quiet_f,
            "during_purge": during_f,
            "runs_with_purge_on": [
                {
                    "rps": round(r["measured"].rps, 1),
                    "p50_ms": r["measured"].p50_ms,
                    "p99_ms": r["measured"].p99_ms,
                    "max_ms": r["measured"].max_ms,
                    "errors": r["measured"].errors,
                    "wholly_inside": r["inside"],
                    "expired_left_at_start": r["left_at_start"],
                    "expired_left_at_end": r["left_at_end"],
                }
                for r in runs
            ],
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _runs_text(f: dict[str, Any], key: str, fmt: str) -> str:
    return ", ".join(format(r[key], fmt) for r in f["runs"])


def _table(live: dict[str, Any], purged: dict[str, Any], seconds: float) -> list[str]:
    sizes = live["sizes"]
    empty_cc, empty_in = empty_rps(live, "client_credentials"), empty_rps(live, "introspection")
    first, again = sizes[0]["scenarios"], live["empty_again"]["scenarios"]
    lines = [
        f"SQLite, one worker, each size on a freshly started server; {len(first['client_credentials']['runs'])} run(s) "
        f"of {seconds:g} s per scenario (requests/s: the mean, then each run; p50/p99: the fastest run's; CPU: the "
        f"server's, per request). Tokens were bulk-loaded (bench/bulk.py): real format and digest, spread over "
        f"{bulk.BULK_USERS:,} users, live for a day. The empty store is measured first and again at the end on a fresh "
        'file; the ratios divide by the mean of the two. "Idle purge pass": one pass of the periodic purge with '
        "nothing to delete, timed in process on the same file after the runs.",
        "",
        "| live tokens stored | rows at start | tokens/s (runs) | p50 ms | p99 ms | CPU us | introspections/s (runs) "
        "| p50 ms | p99 ms | CPU us | tokens/s / empty | introspections/s / empty | idle purge pass s | RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size, label in [(s, f"{s['live_tokens']:,}") for s in sizes] + [(live["empty_again"], "0 (again, at the end)")]:
        cc, intro = size["scenarios"]["client_credentials"], size["scenarios"]["introspection"]
        lines.append(
            f"| {label} | {size['rows_at_start']:,} | {cc['rps']:.0f} ({_runs_text(cc, 'rps', '.0f')}) "
            f"| {cc['p50_ms']:.2f} | {cc['p99_ms']:.2f} | {cc['cpu_us_per_request']:.0f} "
            f"| {intro['rps']:.0f} ({_runs_text(intro, 'rps', '.0f')}) | {intro['p50_ms']:.2f} | {intro['p99_ms']:.2f} "
            f"| {intro['cpu_us_per_request']:.0f} | {_ratio(cc['rps'], empty_cc)} | {_ratio(intro['rps'], empty_in)} "
            f"| {size['idle_purge_pass_s']:.3f} | {size['rss_mb']:.0f} |"
        )
    apart = {
        name: _ratio(abs(first[name]["rps"] - again[name]["rps"]), empty_rps(live, name))
        for name in ("client_credentials", "introspection")
    }
    loads = "; ".join(
        f"{s['live_tokens'] - p['live_tokens']:,} more in {s['load_s']:.0f} s" for p, s in itertools.pairwise(sizes)
    )
    lines += [
        "",
        f"The two empty-store measurements differ by {apart['client_credentials']:.0%} (tokens/s) and "
        f"{apart['introspection']:.0%} (introspections/s) of their mean. Bulk loads: {loads}; the database file "
        f"ended at {live['db_mb']:,} MB.",
        "",
    ]

    q, d = purged["without_purge"], purged["during_purge"]
    lines += [
        f"Purge of {purged['expired_rows_before']:,} access tokens expired two hours before, while serving "
        f"client_credentials at 32 connections (TESSERA_PURGE_INTERVAL={purged['purge_interval_s']}; the purge "
        f"deletes batches of {purged['purge_batch']} with {purged['purge_pause_s'] * 1000:g} ms pauses). Both "
        "servers started on the same store and were warmed up alike:",
        "",
        "| client_credentials | requests/s (runs) | p50 ms | p99 ms | p99 ms of each run | max ms | CPU us | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, f, worst in (
        ("purge off", q, purged["max_ms_without"]),
        ("during the purge", d, purged["max_ms_during"]),
    ):
        if f is None:
            lines.append(f"| {label} | no run | | | | | | |")
            continue
        lines.append(
            f"| {label} | {f['rps']:.0f} ({_runs_text(f, 'rps', '.0f')}) | {f['p50_ms']:.2f} | {f['p99_ms']:.2f} "
            f"| {_runs_text(f, 'p99_ms', '.2f')} | {worst:.2f} | {f['cpu_us_per_request']:.0f} | {f['errors']} |"
        )
    duration = purged["duration_s"]
    rate = f" ({purged['expired_rows_before'] / duration:,.0f} rows/s)" if duration else ""
    inside, total = purged["runs_wholly_inside"], purged["runs_during_purge"]
    lines += [
        "",
        f"The purge took {duration} s{rate}, dated by counting the expired rows left every {purged['poll_s']} s on "
        f"a separate read-only connection (so to within {purged['poll_s']} s at either end); the server logged "
        f"{purged['purged_access_tokens_logged']} access tokens purged. {inside} of {total} back-to-back runs fell "
        "wholly inside the purge"
        + ("." if inside or not total else ", so the row above mixes time with and without it."),
    ]
    return lines


def run_all(seconds: float, log: Log, sizes: Sizes = FULL) -> dict[str, Any]:
    log("scale:")
    started = time.monotonic()
    live = live_tokens(seconds, sizes, log)
    purged = purge_while_serving(seconds, sizes, log)
    largest = live["sizes"][-1]
    during = purged["during_purge"]
    return {
        "live": live,
        "purge": purged,
        "largest_live": largest["live_tokens"],
        # At the largest size (10,000,000 in the full run, tiny in the smoke run), over the
        # mean of the two empty-store measurements.
        "tokens_10m_vs_empty": _ratio(
            largest["scenarios"]["client_credentials"]["rps"], empty_rps(live, "client_credentials")
        ),
        "introspection_10m_vs_empty": _ratio(
            largest["scenarios"]["introspection"]["rps"], empty_rps(live, "introspection")
        ),
        "cpu_per_token_10m_vs_empty": _ratio(
            largest["scenarios"]["client_credentials"]["cpu_us_per_request"],
            (
                live["sizes"][0]["scenarios"]["client_credentials"]["cpu_us_per_request"]
                + live["empty_again"]["scenarios"]["client_credentials"]["cpu_us_per_request"]
            )
            / 2,
        ),
        "purge_duration_s": purged["duration_s"],
        "purge_p99_during_over_without": _ratio(during["p99_ms"], purged["without_purge"]["p99_ms"])
        if during
        else None,
        "table": _table(live, purged, seconds),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
