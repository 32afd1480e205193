"""Connection limits of `tessera serve`, over real sockets (docs/reliability.md): header
block size and field count (RFC 6585 section 5: 431; RFC 9110 section 15.5.15: 414), the
read timeout for a request's headers and body (RFC 9110 section 15.5.9: 408), and the idle
keep-alive timeout. Short timeouts are set through the TESSERA_* settings.

The limits live in the HTTP server, in front of the database, so one engine (SQLite) runs them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e import harness

READ_TIMEOUT = 2
KEEP_ALIVE_TIMEOUT = 1
MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Limited:
    port: int
    host: str  # an account host
    log_path: Path

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.settimeout(10)
        return sock


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Limited]:
    directory = tmp_path_factory.mktemp("limits")
    with harness.fresh_database("sqlite", directory) as database_url:
        seeded = harness.seed(database_url, user_emails=())
        env = {"TESSERA_READ_TIMEOUT": str(READ_TIMEOUT), "TESSERA_KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT)}
        log_path = directory / "server.log"
        with harness.running_server(database_url, log_path, env=env) as port:
            yield Limited(port, f"{seeded.subdomain}.localhost:{port}", log_path)
            log = log_path.read_text(errors="replace")
            assert "Traceback" not in log, log
            assert " 500 " not in log, log


@dataclass(frozen=True)
class Outcome:
    head: bytes  # what the server wrote
    closed_after: float  # seconds from the start until the server closed the connection


def until_closed(sock: socket.socket, started: float, limit: float = 15) -> Outcome:
    """Read until the server closes the connection (a reset counts as closed)."""
    received = b""
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {limit} s; it wrote {received[:200]!r}")
    finally:
        sock.close()
    return Outcome(received, time.monotonic() - started)


def send_ignoring_reset(sock: socket.socket, data: bytes) -> threading.Thread:
    """Send on a thread: the server may close before taking it all in, as it should."""

    def run() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def status(outcome: Outcome) -> int:
    assert outcome.head.startswith(b"HTTP/1.1 "), outcome.head[:200]
    return int(outcome.head[9:12])


def test_a_1_mb_header_is_refused_with_431_and_the_connection_closes(limited: Limited) -> None:
    sock = limited.connect()
    started = time.monotonic()
    sender = send_ignoring_reset(
        sock, b"GET /healthz HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\nX-Big: " + b"a" * 2**20 + b"\r\n\r\n"
    )
    outcome = until_closed(sock, started)
    sender.join(timeout=10)
    if outcome.head:  # the answer, unless the peer's reset overtook it
        assert status(outcome) == 431
        assert b"connection: close" in outcome.head.lower()
        assert f"larger than {MAX_HEADER_BYTES} bytes".encode() in outcome.head
    assert outcome.closed_after < READ_TIMEOUT


def test_forty_unfinished_2_mb_headers_are_all_refused_at_once(limited: Limited) -> None:
    """Each connection costs the server at most the limit plus one socket read."""
    socks = [limited.connect() for _ in range(40)]
    started = time.monotonic()
    head = b"GET / HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\nX-Big: "
    senders = [send_ignoring_reset(sock, head + b"b" * 2 * 2**20) for sock in socks]  # never finished
    outcomes = [until_closed(sock, started) for sock in socks]
    for sender in senders:
        sender.join(timeout=10)
    assert all(o.closed_after < READ_TIMEOUT for o in outcomes), [o.closed_after for o in outcomes]
    assert {status(o) for o in outcomes if o.head} == {431}


def test_1000_header_fields_are_refused_with_431(limited: Limited) -> None:
    sock = limited.connect()
    fields = b"".join(b"X-Field-%d: 1\r\n" % i for i in range(1000))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n" + fields + b"\r\n")
    outcome = until_closed(sock, time.monotonic())
    assert status(outcome) == 431
    assert b"more than 100 header fields" in outcome.head


def test_a_url_over_the_limit_is_refused_with_414(limited: Limited) -> None:
    sock = limited.connect()
    target = b"/oauth/authorizations/new?scope=" + b"read%20" * 4000
    sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n\r\n")
    assert status(until_closed(sock, time.monotonic())) == 414


def test_large_headers_within_the_limit_are_served(limited: Limited) -> None:
    """An 8 KiB cookie and 90 fields are ordinary enough to pass."""
    sock = limited.connect()
    fields = b"".join(b"X-Field-%d: 1\r\n" % i for i in range(88))
    cookie = b"Cookie: junk=" + b"c" * 8192 + b"\r\n"
    request = b"GET /healthz HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n" + cookie + fields
    sock.sendall(request + b"Connection: close\r\n\r\n")
    outcome = until_closed(sock, time.monotonic())
    assert status(outcome) == 200
    assert outcome.head.endswith(b"\r\n\r\nok")


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(limited: Limited) -> None:
    sock = limited.connect()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n\r\n")
    started = time.monotonic()
    outcome = until_closed(sock, started)
    assert status(outcome) == 200
    assert b"connection: close" not in outcome.head.lower()  # kept alive, then closed when idle
    assert KEEP_ALIVE_TIMEOUT - 0.2 <= outcome.closed_after < KEEP_ALIVE_TIMEOUT + 3, outcome.closed_after


def test_a_connection_that_sends_nothing_is_closed_after_the_read_timeout(limited: Limited) -> None:
    """Closed without an answer: nothing was asked."""
    sock = limited.connect()
    outcome = until_closed(sock, time.monotonic())
    assert outcome.head == b""
    assert READ_TIMEOUT - 0.2 <= outcome.closed_after < READ_TIMEOUT + 3, outcome.closed_after


def test_an_unfinished_request_line_gets_408_after_the_read_timeout(limited: Limited) -> None:
    sock = limited.connect()
    started = time.monotonic()
    sock.sendall(b"GET /heal")
    outcome = until_closed(sock, started)
    assert status(outcome) == 408
    assert b"connection: close" in outcome.head.lower()
    assert READ_TIMEOUT - 0.2 <= outcome.closed_after < READ_TIMEOUT + 3, outcome.closed_after


def test_a_slow_loris_header_is_cut_off_at_the_read_timeout(limited: Limited) -> None:
    """Dripping a byte at a time resets no timer: the whole header block has READ_TIMEOUT."""
    sock = limited.connect()
    started = time.monotonic()
    stop = threading.Event()

    def drip() -> None:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\nX-Slow: ")
            while not stop.wait(0.2):
                sock.sendall(b"s")
        except OSError:
            pass

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    outcome = until_closed(sock, started)
    stop.set()
    dripper.join(timeout=5)
    assert status(outcome) == 408
    assert outcome.closed_after < READ_TIMEOUT + 3, outcome.closed_after


def test_a_half_sent_body_gets_408_and_the_connection_closes(limited: Limited) -> None:
    sock = limited.connect()
    started = time.monotonic()
    sock.sendall(
        b"POST /oauth/tokens HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type=client_cre"
    )
    outcome = until_closed(sock, started)
    assert status(outcome) == 408
    assert READ_TIMEOUT - 0.2 <= outcome.closed_after < READ_TIMEOUT + 3, outcome.closed_after


def test_a_client_that_closes_mid_body_leaves_no_500_and_no_traceback(limited: Limited) -> None:
    """Issue: 300 such connections wrote 29,700 lines of tracebacks. The fixture checks the
    server log for tracebacks and 500s when the module ends."""
    for _ in range(20):
        sock = limited.connect()
        sock.sendall(
            b"POST /oauth/tokens HTTP/1.1\r\nHost: " + limited.host.encode() + b"\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=cli"
        )
        time.sleep(0.02)
        sock.close()
    time.sleep(0.3)
    log = limited.log_path.read_text(errors="replace")
    assert "Traceback" not in log
    assert "Exception in ASGI application" not in log


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TESSERA_MAX_HEADER_BYTES", "lots", "TESSERA_MAX_HEADER_BYTES must be a whole number of bytes, not 'lots'"),
        ("TESSERA_READ_TIMEOUT", "0", "TESSERA_READ_TIMEOUT must be at least 1, not 0"),
        ("TESSERA_MAX_HEADERS", "5", "TESSERA_MAX_HEADERS must be at least 10, not 5"),
    ],
)
def test_a_malformed_limit_is_one_line_and_exit_2(tmp_path: Path, name: str, value: str, words: str) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = harness.tessera(
        url, "serve", "--port", str(harness.free_port()), env={**harness.clean_env(url), name: value}
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"tessera: {words}\n"


def test_an_unknown_log_level_is_a_usage_mistake(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = {**harness.clean_env(url), "TESSERA_LOG_LEVEL": "loud"}
    done = harness.tessera(url, "serve", "--port", str(harness.free_port()), env=env)
    assert done.returncode == 2
    assert "Invalid value for '--log-level'" in done.stderr
    assert "Traceback" not in done.stderr
