"""SQLite under storage faults (docs/reliability.md, "Proof under faults"): a database file
that cannot be written, and a full disk. Either way writes answer `503` with `Retry-After`
and the log says why in one line; nothing answers 500; reads go on; no token answered 200
is lost; the file passes `PRAGMA integrity_check` afterwards; and once the fault is gone
service resumes without a restart (the full disk) or at the next start (the read-only file).

Both need root (the suite runs as root in its container): file permissions do not stop
root, so the read-only file is made immutable (`chattr +i`), and the full disk is a small
tmpfs mounted for the test. Without either, the test is skipped and says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import faults, harness
from tests.e2e.harness import Seeded

pytestmark = pytest.mark.e2e

CLIENT_CREDENTIALS = {"grant_type": "client_credentials", "scope": "read"}
FULL_DISK_ATTEMPTS = faults.scaled(400, 2000)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root, until the block ends."""
    done = _run("chattr", "+i", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot make a file immutable here (chattr +i: {done.stderr.strip()})")
    try:
        yield
    finally:
        _run("chattr", "-i", str(path))


@contextlib.contextmanager
def _small_filesystem(directory: Path, size: str) -> Iterator[Path]:
    directory.mkdir()
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tessera-test", str(directory))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield directory
    finally:
        if _run("umount", str(directory)).returncode != 0:
            _run("umount", "-l", str(directory))


def _fill(path: Path) -> int:
    """Write zeros to `path` until the filesystem is full; the bytes written."""
    written = 0
    chunk = bytes(64 * 1024)
    with path.open("wb", buffering=0) as filler:
        while True:
            try:
                written += filler.write(chunk) or 0
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                return written


class Host:
    """Plain calls to one account host of a node."""

    def __init__(self, node: faults.Node, seeded: Seeded) -> None:
        self.node, self.seeded = node, seeded
        self.http = harness.http_client()

    @property
    def issuer(self) -> str:
        return f"http://{self.seeded.subdomain}.localhost:{self.node.port}"

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        auth = (self.seeded.client["identifier"], self.seeded.client["secret"])
        return self.http.post(f"{self.issuer}{path}", auth=auth, data=form)

    def token(self) -> httpx.Response:
        return self.post("/oauth/tokens", CLIENT_CREDENTIALS)

    def active(self, token: str) -> bool:
        answer = self.post("/oauth/introspect", {"token": token})
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["error"] == "temporarily_unavailable"


def _integrity(database_url: str) -> str:
    return str(faults.sql(database_url, "PRAGMA integrity_check")[0][0])


def test_a_read_only_database_file_answers_503_and_keeps_reading(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a file read-only for root needs root (chattr +i)")
    with harness.fresh_database("sqlite", tmp_path) as database_url:
        seeded = harness.seed(database_url)
        node = faults.Node(database_url, tmp_path / "server.log")
        node.start()
        host = Host(node, seeded)
        before = host.token()
        assert before.status_code == 200, before.text
        node.stop()
        with _immutable(tmp_path / "tessera.db"):
            node.start()
            try:
                _assert_unavailable(host.token())
                assert host.active(before.json()["access_token"])  # reads go on
                log = node.log()
                assert "storage unavailable on POST /oauth/tokens: attempt to write a readonly database" in log
                assert "Traceback" not in log and '" 500 ' not in log
            finally:
                node.stop()
        assert _integrity(database_url) == "ok"
        node.start()
        try:
            assert host.token().status_code == 200
            assert host.active(before.json()["access_token"])
        finally:
            node.stop()
            host.http.close()


def test_a_full_disk_answers_503_loses_nothing_and_recovers_by_itself(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    with _small_filesystem(tmp_path / "small", "3M") as small:
        database_url = f"sqlite:///{small / 'tessera.db'}"
        seeded = harness.seed(database_url)
        node = faults.Node(database_url, tmp_path / "server.log", env={"TESSERA_PURGE_INTERVAL": "0"})
        node.start()
        host = Host(node, seeded)
        try:
            answered = [host.token()]
            _fill(small / "filler")
            statuses: list[int] = []
            for _ in range(FULL_DISK_ATTEMPTS):  # until the WAL needs room it does not have
                answer = host.token()
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    answered.append(answer)
                if answer.status_code != 200:
                    break
            assert set(statuses) <= {200, 503}, statuses
            assert statuses[-1] == 503, f"{len(statuses)} writes on a full disk all succeeded"
            _assert_unavailable(answer)
            (line,) = [x for x in node.log().splitlines() if "storage unavailable on POST /oauth/tokens" in x][:1]
            assert line.endswith("database or disk is full"), line
            refused = host.token()
            _assert_unavailable(refused)

            (small / "filler").unlink()
            freed = time.monotonic()
            while (resumed := host.token()).status_code != 200:
                assert resumed.status_code == 503 and time.monotonic() - freed < 10, resumed.text
            recovery = time.monotonic() - freed
            answered.append(resumed)
            lost = [a for a in answered if not host.active(a.json()["access_token"])]
            log = node.log()
            assert "Traceback" not in log and '" 500 ' not in log
        finally:
            node.stop()
            host.http.close()
        assert _integrity(database_url) == "ok"
        faults.record(
            "full_disk",
            writes_before_refusal=len(statuses) - 1,
            answered=len(answered),
            lost=len(lost),
            recovery_seconds=round(recovery, 2),
        )
        assert lost == []
