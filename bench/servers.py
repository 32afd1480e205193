"""Starting the servers under test, pinned to one CPU, and reading their CPU time and RSS
from /proc (the server and, with several workers, its children)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TESSERA = ROOT / ".venv" / "bin" / "tessera"
PEER = ROOT / "bench" / "peer"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _family(pid: int) -> list[int]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            pids.extend(_family(int(child)))
    return pids


def cpu_seconds(pid: int) -> float:
    total = 0
    for member in _family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """The largest resident set among the server's processes (one worker's RSS)."""
    largest = 0
    for member in _family(pid):
        try:
            largest = max(largest, int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE)
        except FileNotFoundError:
            continue
    return largest / 2**20


@dataclass
class Running:
    pid: int
    base: str
    host: str


def _wait(url: str, host: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, headers={"Host": host}, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer: {log.read_text()[-2000:]}")


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path, probe: str, host: str, base: str) -> Iterator[Running]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(probe, host, process, log)
        yield Running(pid=process.pid, base=base, host=host)
    finally:
        # A server that exited by itself (it failed to start) has no group left to signal:
        # the error to report is _wait's, not ProcessLookupError.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def tessera(
    database_url: str, secret_key: str, log: Path, *, workers: int = 1, cpus: str = "0", purge_interval: int = 0
) -> Iterator[Running]:
    """`tessera serve` pinned to `cpus`. The periodic purge of dead rows is off unless
    `purge_interval` (seconds, TESSERA_PURGE_INTERVAL) is given: only the scale experiment
    measures it; its first pass starts at a random point of the first interval."""
    port = free_port()
    env = {
        **os.environ,
        "TESSERA_DATABASE_URL": database_url,
        "TESSERA_SECRET_KEY": secret_key,
        # Off for the measurement, like the peer, which logs nothing per request either;
        # docs/benchmarks.md gives the access log's own cost.
        "TESSERA_ACCESS_LOG": "0",
        "TESSERA_PURGE_INTERVAL": str(purge_interval),
        # A load test (INTERFACE.md section 9): it sends right credentials only, but a
        # throttle must not be what a measurement measures.
        "TESSERA_THROTTLE": "0",
    }
    command = ["taskset", "-c", cpus, str(TESSERA), "serve", "--port", str(port), "--workers", str(workers)]
    base = f"http://127.0.0.1:{port}"
    with _process(command, env, log, f"{base}/healthz", "bench.localhost", base) as running:
        yield running


@dataclass
class PeerRunning(Running):
    mint: str  # the peer's private listener that mints codes and refresh tokens


@contextmanager
def peer(log: Path, *, store_size: int = 1000) -> Iterator[PeerRunning]:
    """node-oidc-provider (bench/peer/server.mjs) pinned to CPU 0; `store_size`: its in-memory
    LRU's size (bench/oidc_provider.py says how the benchmark chooses it)."""
    port, mint_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "MINT_PORT": str(mint_port),
        "STORE_SIZE": str(store_size),
        "NODE_ENV": "production",
    }
    command = ["taskset", "-c", "0", "node", "--expose-gc", str(PEER / "server.mjs")]
    base = f"http://127.0.0.1:{port}"
    with _process(command, env, log, f"{base}/.well-known/openid-configuration", f"127.0.0.1:{port}", base) as running:
        yield PeerRunning(pid=running.pid, base=running.base, host=running.host, mint=f"http://127.0.0.1:{mint_port}")
