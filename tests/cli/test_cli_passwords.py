"""`tessera users create` takes the password at a hidden prompt or on stdin, not only as an
option (which the shell's history and `ps` would show), and never prints it.

The prompt test runs the real command on a pseudo-terminal, as a person would meet it.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tessera import passwords
from tests.e2e import harness

Done = subprocess.CompletedProcess[str]
TYPED = "Prompted-passw0rd-Q7x"
PIPED = "Piped-passw0rd-K3z"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    path = tmp_path_factory.mktemp("passwords") / "tessera.db"
    url = f"sqlite:///{path}"
    assert harness.tessera(url, "accounts", "create", "acme").returncode == 0
    return url, path


def stored_hash(path: Path, email: str) -> str:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE email = ?", (email,)).fetchone()
    conn.close()
    assert row is not None, email
    return str(row[0])


def signs_in_with(path: Path, email: str, password: str) -> bool:
    return asyncio.run(passwords.verify(stored_hash(path, email), password))


def create(url: str, email: str, *extra: str, stdin: str | None = None) -> Done:
    return subprocess.run(
        [harness.TESSERA, "--database-url", url, "users", "create", "--account", "acme", "--email", email, *extra],
        capture_output=True,
        text=True,
        input=stdin,
        env=harness.clean_env(url),
        timeout=60,
        check=False,
    )


def test_password_stdin_reads_the_first_line_and_prints_no_password(db: tuple[str, Path]) -> None:
    url, path = db
    done = create(url, "piped@example.com", "--password-stdin", "--json", stdin=f"{PIPED}\nignored\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["user"]["email"] == "piped@example.com"
    assert PIPED not in done.stdout + done.stderr
    assert signs_in_with(path, "piped@example.com", PIPED)


def test_password_stdin_with_nothing_piped_is_a_clear_mistake(db: tuple[str, Path]) -> None:
    done = create(db[0], "nothing@example.com", "--password-stdin", stdin="")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert "--password-stdin read no password" in done.stderr


def test_no_password_and_no_terminal_is_the_usage_mistake_it_always_was(db: tuple[str, Path]) -> None:
    done = create(db[0], "noterm@example.com", stdin="")
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: tessera users create")
    assert "Error: Missing option '--password'." in done.stderr
    assert "--password-stdin" in done.stderr and "terminal" in done.stderr  # and how else to give it


def test_both_ways_at_once_is_a_usage_mistake(db: tuple[str, Path]) -> None:
    done = create(db[0], "both@example.com", "--password", PIPED, "--password-stdin", stdin=f"{PIPED}\n")
    assert done.returncode == 2
    assert "Usage:" in done.stderr and "not both" in done.stderr


def test_a_terminal_is_asked_twice_without_echo(db: tuple[str, Path]) -> None:
    url, path = db
    main, secondary = pty.openpty()
    with subprocess.Popen(
        [
            harness.TESSERA,
            "--database-url",
            url,
            "users",
            "create",
            "--account",
            "acme",
            "--email",
            "typed@example.com",
        ],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=harness.clean_env(url),
        text=True,
        start_new_session=True,
    ) as process:
        os.close(secondary)
        seen = _answer(
            main,
            [
                ("Password: ", TYPED),
                ("Repeat the password: ", "Mismatch-passw0rd-1"),
                ("Password: ", TYPED),
                ("Repeat the password: ", TYPED),
            ],
        )
        out, _ = process.communicate(timeout=60)
    os.close(main)
    assert process.returncode == 0, seen
    assert "do not match" in seen  # the mismatched second entry was refused and asked again
    assert TYPED not in seen  # hidden: the terminal did not echo it
    assert TYPED not in out and "created end-user typed@example.com" in out
    assert signs_in_with(path, "typed@example.com", TYPED)


def _answer(fd: int, exchanges: list[tuple[str, str]]) -> str:
    """Wait for each prompt on the terminal, type the answer; all the terminal showed."""
    seen = ""
    deadline = time.monotonic() + 60
    for prompt, answer in exchanges:
        mark = len(seen)
        while prompt not in seen[mark:]:
            assert time.monotonic() < deadline, f"no {prompt!r} prompt; the terminal showed:\n{seen}"
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                seen += os.read(fd, 1024).decode(errors="replace")
        os.write(fd, f"{answer}\n".encode())
    # Whatever else the terminal shows before the command ends (a newline, an error).
    end = time.monotonic() + 2
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
    return seen
