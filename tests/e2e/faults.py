"""Servers that die and come back, for the proof-under-faults tests (test_races.py,
test_crash_safety.py, test_sqlite_faults.py) and `make reliability`.

A `Node` is one `tessera serve` process tree (uvicorn's supervisor and its workers) in a
process group of its own, so that `kill()` is a `kill -9` of all of it at once, as a
machine losing power would be. The same log file collects every start of the node.

`TESSERA_RELIABILITY=long` (set by `make reliability`) makes the tests run their long
version; `TESSERA_RELIABILITY_FIGURES=FILE` makes them append what they measured to FILE,
one JSON object a line, which scripts/reliability-figures writes into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import psycopg

from tests.e2e import harness
from tests.support import forms, pkce_pair, query_of

LONG = os.environ.get("TESSERA_RELIABILITY") == "long"


def scaled(short: int, long: int) -> int:
    """`short` in `make test`, `long` under `make reliability`."""
    return long if LONG else short


def record(figure: str, **values: Any) -> None:
    """Keep a measurement for docs/reliability.md (only when TESSERA_RELIABILITY_FIGURES is set)."""
    path = os.environ.get("TESSERA_RELIABILITY_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"figure": figure, **values}) + "\n")


class Node:
    """`tessera serve` on a fixed port and database, started and killed at will."""

    def __init__(
        self, database_url: str, log_path: Path, *, workers: int = 1, env: Mapping[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.env = {"TESSERA_THROTTLE": "0", **(env or {})}
        self.port = harness.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start the server; the seconds until it answered HTTP."""
        began = time.monotonic()
        command = [harness.TESSERA, "--database-url", self.database_url, "serve", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--workers", str(self.workers)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**harness.clean_env(self.database_url), **self.env},
                cwd=tempfile.gettempdir(),
                start_new_session=True,  # its own process group: kill() reaches the workers too
            )
        harness._wait_until_answering(self.process, self.port, self.log_path)
        return time.monotonic() - began

    def kill(self) -> None:
        """`kill -9` of the whole process tree, supervisor and workers together."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def async_client(port: int, subdomain: str, *, timeout: float = 15) -> httpx.AsyncClient:
    """An asyncio client for one account host of a node: it connects to 127.0.0.1 and sends
    the account's Host header (Python does not resolve `*.localhost`)."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Host": f"{subdomain}.localhost:{port}"},
        timeout=timeout,
        limits=httpx.Limits(max_connections=64),
    )


def sql(database_url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """A statement straight on the database, bypassing the server (the tests' own eyes)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url[len("sqlite:///") :]) as conn:
            return list(conn.execute(statement.replace("%s", "?"), params).fetchall())
    with psycopg.connect(database_url) as conn:
        return list(conn.execute(statement, params).fetchall())  # type: ignore[arg-type]


class Codes:
    """Authorization codes (with PKCE) for one user and the seeded client, from one browser
    that signs in and consents once (INTERFACE.md section 4: no consent page the next time)."""

    def __init__(self, issuer: str, client: Mapping[str, Any], email: str) -> None:
        self.issuer, self.client, self.email = issuer, client, email
        self.browser = harness.http_client()

    def close(self) -> None:
        self.browser.close()

    def _authorization_url(self, challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client["identifier"],
            "redirect_uri": harness.REDIRECT_URI,
            "scope": "read",
            "state": "faults",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.issuer}/oauth/authorizations/new?{urlencode(query)}"

    def new(self) -> tuple[str, str]:
        """A fresh code and its PKCE verifier."""
        verifier, challenge = pkce_pair()
        url = self._authorization_url(challenge)
        answer = self.browser.get(url)
        location = urljoin(url, answer.headers.get("location", ""))
        if urlsplit(location).path == "/access/login":
            self._sign_in(location)
            answer = self.browser.get(url)
        if answer.status_code == 200:  # the consent page, the first time
            consent = next(f for f in forms(answer.text) if f.action == "/oauth/authorizations")
            answer = self.browser.post(urljoin(url, consent.action), data=dict(consent.fields, decision="allow"))
        assert answer.status_code in (302, 303), answer.text
        return query_of(answer.headers["location"])["code"], verifier

    def _sign_in(self, login_url: str) -> None:
        page = self.browser.get(login_url)
        login = next(f for f in forms(page.text) if "password" in f.fields)
        fields = dict(login.fields, email=self.email, password=harness.PASSWORD)
        signed = self.browser.post(urljoin(login_url, login.action), data=fields)
        assert signed.status_code in (302, 303), signed.text

    def redeem_form(self, code: str, verifier: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": harness.REDIRECT_URI,
            "code_verifier": verifier,
        }
