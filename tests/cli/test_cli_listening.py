"""`tessera serve` and `tessera demo` say, before they start, that they cannot listen where
asked (INTERFACE.md section 1: a mistake is one line on stderr and exit 2). A busy port
ended in a logged `[Errno 98]` after `demo` had printed its whole "open this" banner."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import harness


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_line_mistake(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("tessera: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in done.stderr and "Errno" not in done.stderr
    assert done.stdout == ""  # nothing was started or announced


def test_serve_on_a_busy_port(seeded: Path, busy_port: int) -> None:
    done = harness.tessera(f"sqlite:///{seeded}", "serve", "--port", str(busy_port))
    _one_line_mistake(done, f"port {busy_port} on 127.0.0.1 is in use by another program", "--port")


def test_serve_on_an_address_that_is_not_this_machines(seeded: Path) -> None:
    done = harness.tessera(f"sqlite:///{seeded}", "serve", "--host", "192.0.2.1", "--port", str(_free_port()))
    _one_line_mistake(done, "'192.0.2.1' is not an address of this machine")


def test_demo_on_a_busy_port_prints_no_banner(tmp_path: Path, busy_port: int) -> None:
    done = harness.tessera(f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--port", str(busy_port))
    _one_line_mistake(done, f"port {busy_port} on 127.0.0.1 is in use", "--port")
    assert not (tmp_path / "demo.db").exists()  # checked before anything was seeded


def test_demo_on_a_busy_samples_port(tmp_path: Path, busy_port: int) -> None:
    args = ("demo", "--port", str(_free_port()), "--samples-port", str(busy_port))
    _one_line_mistake(harness.tessera(f"sqlite:///{tmp_path / 'demo.db'}", *args), "--samples-port")


def test_demo_with_one_port_for_both(tmp_path: Path) -> None:
    port = str(_free_port())
    done = harness.tessera(f"sqlite:///{tmp_path / 'demo.db'}", "demo", "--port", port, "--samples-port", port)
    _one_line_mistake(done, "--port and --samples-port are both")
