"""Password sign-in throughput with the argon2id parameters Tessera uses
(tessera/passwords.py, whose docstring says why these):

- raw: PasswordHasher.verify of a right password, back to back, in this process with the
  measuring thread pinned to CPU 0: the ceiling for one core;
- through the server: successful POST /access/login (form with its CSRF token and cookie,
  as a browser sends it), Tessera pinned to CPU 0 and wrk on CPU 1 as for the main
  figures, but with LOGIN_CONNECTIONS connections: at ~40 sign-ins/s, 32 connections
  would only queue (p50 near a second, close to wrk's 2 s timeout). Each sign-in verifies
  the password on a worker thread and writes a session row. Only successful sign-ins are
  sent, so the failed-sign-in throttle never applies.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench import seed, servers
from bench.common import FORM, HOST, RUNS, SECRET_KEY, Figure
from bench.wrk import Scenario, run
from tessera import passwords

LOGIN_CONNECTIONS = 4


def parameters() -> dict[str, Any]:
    hasher = passwords.HASHER
    return {
        "algorithm": f"argon2{hasher.type.name.lower()}",
        "memory_kib": hasher.memory_cost,
        "time_cost": hasher.time_cost,
        "parallelism": hasher.parallelism,
        "hash_len": hasher.hash_len,
        "salt_len": hasher.salt_len,
        "argon2_cffi": _version("argon2-cffi"),
    }


def rationale() -> str:
    """The paragraph of tessera/passwords.py's docstring that gives the parameters' reasons."""
    paragraphs = [" ".join(p.split()) for p in (passwords.__doc__ or "").split("\n\n")]
    found = next((p for p in paragraphs if p.startswith("Parameters:")), "")
    return found.removeprefix("Parameters:").strip()


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def raw_verify_rate(seconds: float) -> dict[str, Any]:
    """Verifications of a right password per second on one core (CPU 0)."""
    stored = passwords.HASHER.hash(seed.PASSWORD)
    previous = os.sched_getaffinity(0)
    if 0 in previous:
        os.sched_setaffinity(0, {0})  # this thread only
    try:
        passwords.HASHER.verify(stored, seed.PASSWORD)  # warm
        count = 0
        cpu_started, started = time.thread_time(), time.perf_counter()
        while time.perf_counter() - started < seconds:
            passwords.HASHER.verify(stored, seed.PASSWORD)
            count += 1
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
    finally:
        os.sched_setaffinity(0, previous)
    return {
        "verifications": count,
        "seconds": round(elapsed, 2),
        "per_s": round(count / elapsed, 1),
        "ms_each": round(1000 * elapsed / count, 2),
        "cpu_ms_each": round(1000 * cpu / count, 2),
    }


def _login_scenario(base: str) -> Scenario:
    """The sign-in form as a browser posts it: the login cookie and the page's CSRF token."""
    page = httpx.get(f"{base}/access/login", headers=HOST)
    page.raise_for_status()
    found = re.search(r'name="authenticity_token" value="([^"]+)"', page.text)
    cookie = page.cookies.get("tessera_login")
    if found is None or cookie is None:
        raise RuntimeError("the sign-in page has no authenticity_token field or tessera_login cookie")
    body = urlencode(
        {
            "authenticity_token": found.group(1),
            "return_to": "/",
            "email": "admin@bench.example",
            "password": seed.PASSWORD,
        }
    )
    scenario = Scenario(
        "login", "POST", "/access/login", {**FORM, "Cookie": f"tessera_login={cookie}"}, body=body, expect_status=303
    )
    check = httpx.post(f"{base}/access/login", headers=scenario.headers, content=body)
    if check.status_code != 303:
        raise RuntimeError(f"a sign-in answered {check.status_code}, not 303: {check.text[:300]}")
    return scenario


def login_rate(seconds: float, runs: int = RUNS) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="tessera-bench-login-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    try:
        seed.seed(url)
        with servers.tessera(url, SECRET_KEY, folder / "server.log") as running:
            scenario = _login_scenario(running.base)
            run(scenario, running.base, min(seconds, 2.0), connections=LOGIN_CONNECTIONS)  # warm-up
            measured = []
            for _ in range(runs):
                before = servers.cpu_seconds(running.pid)
                m = run(scenario, running.base, seconds, connections=LOGIN_CONNECTIONS)
                measured.append((m, servers.cpu_seconds(running.pid) - before))
            rss = servers.rss_mb(running.pid)
        figure = asdict(Figure.of("login", measured))
        return figure | {"connections": LOGIN_CONNECTIONS, "rss_mb": round(rss, 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_all(seconds: float, log: Callable[[str], None], *, runs: int = RUNS) -> dict[str, Any]:
    log("passwords:")
    raw = raw_verify_rate(seconds)
    log(f"  argon2id verify in process, CPU 0: {raw['per_s']:.1f}/s ({raw['ms_each']:.2f} ms each)")
    login = login_rate(seconds, runs)
    log(
        f"  POST /access/login {login['rps']:.1f}/s p50 {login['p50_ms']:.1f} p99 {login['p99_ms']:.1f} ms "
        f"errors {login['errors']}"
    )
    return {"parameters": parameters(), "rationale": rationale(), "raw_verify": raw, "login": login}
