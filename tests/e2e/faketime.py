"""A real `tessera serve` whose wall clock the test moves forward, with libfaketime.

Tokens live 5 minutes at least and refresh-token reuse is judged against a 10-second window:
a test that waits for either in real time is too slow or flaky. Instead the server process
runs with libfaketime preloaded (Debian package `faketime`, installed by `make test` through
scripts/ensure-test-packages), reading its offset from a file the test rewrites:

- FAKETIME_TIMESTAMP_FILE holds "+N": the process sees the real time plus N seconds;
- FAKETIME_NO_CACHE=1: the file is read again at every clock call, so a move takes effect
  at the server's very next request;
- FAKETIME_DONT_FAKE_MONOTONIC=1: the monotonic clock stays real, so uvloop's timers and
  asyncio.sleep keep working.

Tessera itself has no test hook for its clock: what moves is the operating system's answer
to time(), as if the test had waited.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from tests.e2e import harness

LIBRARIES = (
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
    Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
)


def library() -> Path:
    """The multi-threaded libfaketime; a missing one is an error, not a skip (CI installs it)."""
    for path in LIBRARIES:
        if path.exists():
            return path
    raise RuntimeError(
        "libfaketime is not installed (looked for "
        + ", ".join(map(str, LIBRARIES))
        + "): run scripts/ensure-test-packages, or apt-get install faketime"
    )


class ServerClock:
    """The offset, in seconds, between the real time and the time the server process sees."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "faketime-offset"
        self.offset = 0
        self._write()

    def env(self) -> dict[str, str]:
        preload = os.environ.get("LD_PRELOAD")
        return {
            "LD_PRELOAD": f"{library()}:{preload}" if preload else str(library()),
            "FAKETIME_TIMESTAMP_FILE": str(self.path),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }

    def advance(self, seconds: int, port: int) -> None:
        """Move the server's clock `seconds` ahead, and wait until the server shows it."""
        assert seconds > 2, "moves this small cannot be told apart from rounding in the Date header"
        self.offset += seconds
        self._write()
        self.wait_until_seen(port)

    def wait_until_seen(self, port: int) -> None:
        """Poll the server's `Date` header (uvicorn refreshes it about once a second from
        time()) until it shows the current offset; fails if libfaketime is not at work."""
        deadline = time.monotonic() + 5
        seen = None
        with httpx.Client(timeout=2) as probe:
            while time.monotonic() < deadline:
                answer = probe.get(f"http://127.0.0.1:{port}/", headers={"Host": f"localhost:{port}"})
                seen = parsedate_to_datetime(answer.headers["date"]).timestamp()
                lag = time.time() + self.offset - seen
                if -2 <= lag <= 2:
                    return
                time.sleep(0.1)
        raise AssertionError(
            f"the server's clock does not show the +{self.offset} s offset (its Date header says {seen}, "
            f"the real time is {time.time()}): is libfaketime preloaded?"
        )

    def _write(self) -> None:
        # Replace the file whole, so the server never reads a half-written offset.
        staged = self.path.with_name(self.path.name + ".new")
        staged.write_text(f"+{self.offset}")
        os.replace(staged, self.path)


@contextlib.contextmanager
def running_server(database_url: str, log_path: Path, clock: ServerClock) -> Iterator[int]:
    """harness.running_server, with the server's clock under `clock`; yields the port."""
    port = harness.free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [harness.TESSERA, "--database-url", database_url, "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=harness.clean_env(database_url) | clock.env(),
            cwd=tempfile.gettempdir(),
        )
        try:
            harness._wait_until_answering(process, port, log_path)
            clock.wait_until_seen(port)
            yield port
        finally:
            harness.stop(process)
