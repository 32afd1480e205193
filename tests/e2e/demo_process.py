"""`tessera demo` as a user runs it, on free ports: the server and the sample apps beside it.

Used by the sample apps' tests (test_sample_apps.py) and their screenshots
(sample_screenshots.py). The demo serves a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e import harness

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "tessera-demo"


@dataclass(frozen=True)
class Demo:
    port: int
    samples_port: int
    printed: str
    database_url: str

    @property
    def issuer(self) -> str:
        return f"http://demo.localhost:{self.port}"

    @property
    def apps(self) -> str:
        return f"http://127.0.0.1:{self.samples_port}"

    @property
    def secret(self) -> str:
        return re.findall(r"client_secret (tss_\S+)", self.printed)[0]


@contextlib.contextmanager
def running_demo(directory: Path) -> Iterator[Demo]:
    port, samples_port = harness.free_port(), harness.free_port()
    database_url = f"sqlite:///{directory / 'demo.db'}"
    out, log = directory / "demo.out", directory / "demo.log"
    command = [harness.TESSERA, "--database-url", database_url, "demo"]
    command += ["--port", str(port), "--samples-port", str(samples_port)]
    with out.open("wb") as stdout, log.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=harness.clean_env(), cwd=directory
        )
        try:
            _wait_for(process, out, log, port, samples_port)
            yield Demo(port, samples_port, out.read_text(), database_url)
        finally:
            harness.stop(process)


def _wait_for(process: subprocess.Popen[bytes], out: Path, log: Path, port: int, samples_port: int) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"tessera demo exited with {process.returncode}:\n{log.read_text()}")
            try:
                if "Press Ctrl+C" in out.read_text():
                    probe.get(f"http://127.0.0.1:{port}/", headers={"Host": f"demo.localhost:{port}"})
                    probe.get(f"http://127.0.0.1:{samples_port}/")
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"tessera demo did not answer within 30 s:\n{out.read_text()}\n{log.read_text()}")
