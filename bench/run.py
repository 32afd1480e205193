"""The benchmark suite: `make bench` (python -m bench.run).

For each configuration (SQLite with one worker; PostgreSQL with one and with two workers)
it seeds a fresh database, starts Tessera pinned to CPU 0, drives it from CPU 1 with wrk
(32 connections) and measures each scenario twice: client_credentials tokens,
authorization code redemption (codes minted in bulk beforehand), refresh with rotation,
introspection, GET /api/v2/users/me, and GET /healthz, the same-stack baseline. It then
measures node-oidc-provider 9 the same way on its four token flows (bench/oidc_provider.py). Non-2xx answers and wrong bodies
count as errors. Results go to bench/results/latest.json and into docs/benchmarks.md.

With --scale it also runs the scale experiments (bench/scale.py: 1M and 10M live tokens,
the purge of 1M expired ones while serving). Password sign-in throughput (bench/passwords.py)
is always measured. With --multinode, two nodes on PostgreSQL behind HAProxy and each
tier's CPU, WAL and commits per request (bench/multinode.py). --smoke checks the harness in
well under a minute: 1 s runs, SQLite only, no peer, no docs, and the scale experiments at
tiny sizes.

    python -m bench.run [--seconds 10] [--configs sqlite,postgresql,postgresql-2] [--no-peer]
                        [--scale] [--scale-sizes 1000000,10000000] [--purge-rows 1000000]
                        [--no-passwords] [--multinode] [--smoke] [--output PATH] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from bench import dpop, multinode, oidc_provider, passwords, report, scale, seed, servers
from bench.common import (
    FORM,
    HOST,
    RUNS,
    SECRET_KEY,
    Figure,
    client_credentials_scenario,
    introspection_scenario,
    warm_up,
)
from bench.databases import drop_database, fresh_database
from bench.wrk import Measured, Scenario, basic, run

RESULTS = Path(__file__).resolve().parent / "results"
# Credentials are single use: mint enough for RUNS runs at up to this many per second.
MAX_RATE = 15_000
# users_me_distinct: how many tokens take turns, and the unmeasured pass that uses each once.
DISTINCT_TOKENS = 10_000
# users_me_dpop: proofs are single use and signed before each run; enough for this many per second.
DPOP_MAX_RATE = 12_000
DISTINCT_WARM_UP = 5.0


def _slices(path: Path) -> list[Path]:
    """Split a file of single-use credentials into one file per run."""
    lines = path.read_text().splitlines()
    size = len(lines) // RUNS
    parts = []
    for k in range(RUNS):
        part = path.with_suffix(f".{k}.txt")
        part.write_text("\n".join(lines[k * size : (k + 1) * size]) + "\n")
        parts.append(part)
    return parts


def _measure(
    scenario: Scenario, running: servers.Running, seconds: float, sign: Callable[[Path], None] | None = None
) -> list[tuple[Measured, float]]:
    """RUNS runs; `sign`, for DPoP, writes a run's proofs into its file just before it, so
    that no proof is older at its use than signing one run's share and the run itself,
    however slow the machine (the server refuses proofs older than 60 s)."""
    results = []
    single_use = scenario.credentials is not None and not scenario.bearer
    if sign is not None and scenario.credentials is not None:
        parts: list[Path | None] = [scenario.credentials.with_suffix(f".{k}.txt") for k in range(RUNS)]
    elif single_use and scenario.credentials is not None:
        parts = list(_slices(scenario.credentials))
    else:
        parts = [scenario.credentials] * RUNS
    for part in parts:
        if sign is not None and part is not None:
            sign(part)
        before = servers.cpu_seconds(running.pid)
        measured = run(replace(scenario, credentials=part), running.base, seconds)
        results.append((measured, servers.cpu_seconds(running.pid) - before))
    return results


def tessera_scenarios(url: str, seeded: seed.Seeded, folder: Path, seconds: float) -> list[Scenario]:
    needed = int(MAX_RATE * seconds * RUNS) + 1000
    redirect = seed.mint_codes(url, seeded, needed, folder / "codes.txt")
    seed.mint_tokens(url, seeded, needed, refresh_path=folder / "refresh.txt")
    seed.mint_tokens(url, seeded, DISTINCT_TOKENS, access_path=folder / "bearer.txt")
    live = seed.mint_tokens(url, seeded, 1)[0]
    return [
        Scenario("healthz", "GET", "/healthz", HOST, expect_body="ok"),
        client_credentials_scenario(seeded),
        Scenario(
            "authorization_code",
            "POST",
            "/oauth/tokens",
            {**FORM, "Authorization": basic(*seeded.web)},
            body="grant_type=authorization_code&code=%s&code_verifier=%s&redirect_uri=" + redirect,
            expect_body='"access_token"',
            credentials=folder / "codes.txt",
        ),
        Scenario(
            "refresh_token",
            "POST",
            "/oauth/tokens",
            {**FORM, "Authorization": basic(*seeded.web)},
            body="grant_type=refresh_token&refresh_token=%s%s",
            expect_body='"refresh_token"',
            credentials=folder / "refresh.txt",
        ),
        introspection_scenario(seeded, live),
        Scenario(
            "users_me", "GET", "/api/v2/users/me", {**HOST, "Authorization": f"Bearer {live}"}, expect_body='"user"'
        ),
        # 10,000 tokens in turn, each back every second or two: what an API call costs when
        # this node has not seen its token in the last half second (the access-token memo,
        # storage/tokens.py) but it was used in the last minute (so used_at is not rewritten).
        Scenario(
            "users_me_distinct",
            "GET",
            "/api/v2/users/me",
            HOST,
            expect_body='"user"',
            credentials=folder / "bearer.txt",
            bearer=True,
        ),
        # RFC 9449: a DPoP-bound token with a fresh proof per call (signed just before the
        # run, see bench_tessera); its CPU per request / users_me's is the DPoP target.
        Scenario(
            "users_me_dpop", "GET", dpop.ME, HOST, expect_body='"user"', credentials=folder / "dpop.txt", dpop=True
        ),
    ]


def bench_tessera(
    engine: str, workers: int, seconds: float, log: Callable[[str], None], only: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every scenario on a fresh database, or those named in `only` (a partial run's) and
    the hello world (healthz) every ratio is taken against."""
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    url = fresh_database(engine, folder)
    try:
        seeded = seed.seed(url)
        scenarios = tessera_scenarios(url, seeded, folder, seconds)
        warm = scenarios[1]
        scenarios = [scenario for scenario in scenarios if not only or scenario.name in only | {"healthz"}]
        figures = {}
        with servers.tessera(url, SECRET_KEY, folder / "server.log", workers=workers) as running:
            warm_up(warm, running, seconds)
            for scenario in scenarios:
                sign = None
                if scenario.dpop and scenario.credentials is not None:
                    sign = _proof_signer(running.base, seeded, int(DPOP_MAX_RATE * seconds) + 500)
                if scenario.bearer:
                    # Unmeasured: each token's first use records used_at (a write), which
                    # then is not repeated for a minute, longer than the measured runs.
                    run(scenario, running.base, min(DISTINCT_WARM_UP, seconds))
                figures[scenario.name] = asdict(Figure.of(scenario.name, _measure(scenario, running, seconds, sign)))
                log(
                    f"  {engine}/{workers}w {scenario.name:20} {figures[scenario.name]['rps']:9.1f}/s "
                    f"p99 {figures[scenario.name]['p99_ms']:.2f} ms errors {figures[scenario.name]['errors']}"
                )
            rss = servers.rss_mb(running.pid)
        return {"engine": engine, "workers": workers, "scenarios": figures, "rss_mb": round(rss, 1)}
    finally:
        drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)


def _proof_signer(base: str, seeded: seed.Seeded, count: int) -> Callable[[Path], None]:
    """A DPoP-bound token, and what writes `count` fresh proofs for GET /api/v2/users/me
    with it into a file, one per line (bench/dpop.py)."""
    key = ECKey.generate_key("P-256")
    issuer = f"http://{HOST['Host']}"
    headers = {**FORM, "Authorization": basic(*seeded.cc)}
    token = dpop.bound_token(base, issuer, headers, "grant_type=client_credentials&scope=read", key)

    def sign(path: Path) -> None:
        dpop.write_credentials(path, token, dpop.proofs(key, issuer + dpop.ME, token, count))

    return sign


def _machine() -> dict[str, Any]:
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql_client": pg,
        "load_average_at_start": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument(
        "--configs",
        default="sqlite,postgresql,postgresql-2",
        help='"" for none (with --scale: the scale figures alone)',
    )
    parser.add_argument(
        "--scenarios",
        default="",
        help="comma-separated scenario names to run (default: all), e.g. users_me,users_me_dpop",
    )
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--scale", action="store_true", help="also the 1M/10M-token and purge experiments")
    parser.add_argument("--scale-sizes", help="live tokens to measure at, comma-separated (default 1000000,10000000)")
    parser.add_argument("--purge-rows", type=int, help="expired tokens the purge experiment deletes (default 1000000)")
    parser.add_argument("--no-passwords", action="store_true", help="skip the password sign-in figures")
    parser.add_argument(
        "--multinode", action="store_true", help="also two nodes on PostgreSQL behind HAProxy (bench/multinode.py)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="1 s per run, SQLite only, no peer, tiny scale sizes: checks the harness"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.configs, args.no_peer, args.no_docs, args.scale = 1.0, "sqlite", True, True, True

    def log(line: str) -> None:
        print(line, flush=True)

    started = time.time()
    results: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds_per_run": args.seconds,
        "runs": RUNS,
        "connections": 32,
        "machine": _machine(),
        "configs": {},
    }
    try:
        for config in filter(None, args.configs.split(",")):
            engine, _, workers = config.partition("-")
            log(f"{config}:")
            only = frozenset(filter(None, args.scenarios.split(",")))
            results["configs"][config] = bench_tessera(engine, int(workers or 1), args.seconds, log, only)
        if not args.no_peer:
            log("peer:")
            results["peer"] = oidc_provider.bench(args.seconds, log)
        if not args.no_passwords:
            results["passwords"] = passwords.run_all(args.seconds, log, runs=1 if args.smoke else RUNS)
        if args.scale:
            sizes = scale.SMOKE if args.smoke else scale.FULL
            if args.scale_sizes:
                sizes = replace(sizes, live=tuple(sorted(int(n) for n in args.scale_sizes.split(","))))
            if args.purge_rows is not None:
                sizes = replace(sizes, expired=args.purge_rows)
            results["scale"] = scale.run_all(args.seconds, log, sizes)
        if args.multinode:
            log("multinode:")
            results["multinode"] = multinode.run_all(args.seconds, log)
    except BaseException:
        # What was measured before a failure is kept (without ratios or docs), so that
        # half an hour of figures is not lost to the last section's error.
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results | {"failed": True}, indent=2) + "\n")
        log(f"failed; wrote what was measured to {args.output}")
        raise
    results["ratios"] = report.ratios(results)
    results["elapsed_s"] = round(time.time() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {args.output}")
    # A partial run (no configuration, or some scenarios only) must not replace the tables.
    if not args.no_docs and results["configs"] and not args.scenarios:
        report.write_docs(results)
        log("updated docs/benchmarks.md")
    return 1 if results["ratios"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
