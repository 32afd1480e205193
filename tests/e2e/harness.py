"""The real thing, from the outside: the `tessera` command, a server process on a free port,
and HTTP to `*.localhost` hosts.

Used by the e2e fixtures (conftest.py), the CLI tests and tests/e2e/screenshots.py. Python's
resolver does not resolve `*.localhost` (browsers and curl do), so `LoopbackTransport`
connects every request to 127.0.0.1 and keeps the Host header, which selects the account.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import httpx2
import psycopg

from tests.support import forms

ROOT = Path(__file__).resolve().parents[2]
TESSERA = str(Path(sys.executable).with_name("tessera"))
POSTGRES_ADMIN_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "e2e-secret-key-" + "k" * 40
PASSWORD = "correct horse battery"
REDIRECT_URI = "http://127.0.0.1/cb"


class LoopbackTransport(httpx.HTTPTransport):
    """Sends every request to 127.0.0.1 on the URL's port, keeping URL and Host header as
    they were (so cookies stay scoped to the account host, as in a browser)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wire = httpx.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1"),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return super().handle_request(wire)


class Httpx2LoopbackTransport(httpx2.HTTPTransport):
    """LoopbackTransport for clients built on the `httpx2` fork: Authlib's httpx integration
    (which prefers it when installed, as the MCP SDK installs it)."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        wire = httpx2.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1"),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return super().handle_request(wire)


class AsyncHttpx2LoopbackTransport(httpx2.AsyncHTTPTransport):
    """The same for asynchronous `httpx2` clients (the MCP SDK's)."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        wire = httpx2.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1"),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await super().handle_async_request(wire)


def http_client(**options: Any) -> httpx.Client:
    """A plain client that reaches `*.localhost` hosts and never follows redirects."""
    return httpx.Client(transport=LoopbackTransport(), follow_redirects=False, timeout=15, **options)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(database_url: str | None = None) -> dict[str, str]:
    """The environment for a `tessera` process: no inherited TESSERA_* settings; the secret
    key that PostgreSQL requires (SQLite generates and keeps its own beside the file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["PYTHONUNBUFFERED"] = "1"
    # Each command is a new interpreter. Without a bytecode cache (this machine sets
    # PYTHONDONTWRITEBYTECODE and the venv ships no .pyc) every start compiles SQLAlchemy and
    # Alembic again: ~0.9 s instead of ~0.4 s. Keep the cache out of the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "tessera-test-pycache")
    if database_url is not None and database_url.startswith("postgresql"):
        env["TESSERA_SECRET_KEY"] = SECRET_KEY
    return env


def tessera(
    database_url: str | None, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command: `tessera --database-url URL ARGS...` (no global option when None).

    It runs in the temp directory, so that a command that wrongly ignored the URL would not
    leave a ./tessera.db in the working tree.
    """
    command = [TESSERA] if database_url is None else [TESSERA, "--database-url", database_url]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else clean_env(database_url),
        cwd=tempfile.gettempdir(),
        timeout=30,
        check=False,
    )


def tessera_json(database_url: str, *args: str) -> dict[str, Any]:
    done = tessera(database_url, *args, "--json")
    assert done.returncode == 0, f"tessera {' '.join(args)} failed: {done.stderr}"
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    return body


@contextlib.contextmanager
def fresh_database(engine: str, directory: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if engine == "sqlite":
        yield f"sqlite:///{directory / 'tessera.db'}"
        return
    name = f"tessera_e2e_{secrets.token_hex(5)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Seeded:
    """What `seed` created through the CLI: the parsed `--json` outputs."""

    account: dict[str, Any]
    admin: dict[str, Any]
    users: dict[str, dict[str, Any]]  # by email
    client: dict[str, Any]  # confidential; "secret" in full

    @property
    def subdomain(self) -> str:
        return str(self.account["subdomain"])


# Seeded databases already made in this process, by engine and what was seeded: the copy
# to start the next one from, and what the CLI printed when it was made.
_TEMPLATES: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, Seeded]] = {}


def seed(
    database_url: str,
    *,
    subdomain: str = "acme",
    account_name: str = "Acme Inc",
    user_emails: tuple[str, ...] = ("alice@example.com", "bob@example.com"),
) -> Seeded:
    """An account, its admin, end users and one confidential client, all via `tessera ... --json`,
    into the empty database `database_url` (from fresh_database).

    The CLI seeds the first such database of each engine in a test process (5 `tessera`
    commands, 3 to 7 s on a loaded 2-core machine); the next ones are copies of it (an SQLite
    backup with its key file; PostgreSQL's CREATE DATABASE ... TEMPLATE), the same rows and
    the same secrets, in well under a second. Each test module still has a database of its own.
    """
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    key = (engine, subdomain, account_name, user_emails)
    if key in _TEMPLATES:
        template, seeded = _TEMPLATES[key]
        _copy_database(template, database_url)
        return seeded
    seeded = _seed_with_the_cli(database_url, subdomain=subdomain, account_name=account_name, user_emails=user_emails)
    _TEMPLATES[key] = (_keep_as_template(database_url), seeded)
    return seeded


def _sqlite_file(database_url: str) -> Path:
    return Path(database_url[len("sqlite:///") :])


def _keep_as_template(database_url: str) -> str:
    """A copy of a freshly seeded database, kept until the process exits; where it is."""
    if database_url.startswith("sqlite"):
        source = _sqlite_file(database_url)
        kept = Path(tempfile.mkdtemp(prefix="tessera-seeded-")) / "tessera.db"
        _copy_sqlite(source, kept)
        return f"sqlite:///{kept}"
    name = f"tessera_e2e_seeded_{secrets.token_hex(5)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{database_url.rsplit("/", 1)[1]}"')

    def drop() -> None:
        with contextlib.suppress(psycopg.Error), psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    atexit.register(drop)
    return name


def _copy_sqlite(source: Path, target: Path) -> None:
    """The database by SQLite's backup (consistent whatever its WAL holds), and the secret
    key that tessera generated beside it (settings.py), which encrypts its signing keys."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    shutil.copyfile(source.with_name(source.name + ".secret_key"), target.with_name(target.name + ".secret_key"))


def _copy_database(template: str, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        _copy_sqlite(_sqlite_file(template), _sqlite_file(database_url))
        return
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:  # fresh_database's, still empty
        admin.execute(f'DROP DATABASE "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _seed_with_the_cli(database_url: str, *, subdomain: str, account_name: str, user_emails: tuple[str, ...]) -> Seeded:
    account = tessera_json(database_url, "accounts", "create", subdomain, "--name", account_name)["account"]
    admin = tessera_json(
        database_url,
        "users",
        "create",
        "--account",
        subdomain,
        "--email",
        "admin@example.com",
        "--password",
        PASSWORD,
        "--role",
        "admin",
        "--name",
        "Ada Admin",
    )["user"]
    client_args = (
        "clients",
        "create",
        "--account",
        subdomain,
        "--name",
        "Example Web App",
        "--identifier",
        "example-web",
        "--company",
        "Example Inc",
        "--description",
        "Reads your tickets to build weekly reports.",
        "--redirect-uri",
        REDIRECT_URI,
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--grant-type",
        "client_credentials",
    )
    # The rest depends only on the account and its admin: create it side by side.
    with ThreadPoolExecutor(max_workers=4) as pool:
        client_job = pool.submit(tessera_json, database_url, *client_args)
        user_jobs = {
            email: pool.submit(
                tessera_json,
                database_url,
                *("users", "create", "--account", subdomain, "--email", email, "--password", PASSWORD),
                *("--name", email.split("@")[0].title()),
            )
            for email in user_emails
        }
        users = {email: job.result()["user"] for email, job in user_jobs.items()}
        client = client_job.result()["client"]
    return Seeded(account=account, admin=admin, users=users, client=client)


@dataclass(frozen=True)
class Server:
    engine: str
    port: int
    database_url: str
    log_path: Path
    seeded: Seeded

    @property
    def subdomain(self) -> str:
        return self.seeded.subdomain

    @property
    def issuer(self) -> str:
        """INTERFACE.md section 2: the account's origin as the client reaches it, no trailing slash."""
        return f"http://{self.subdomain}.localhost:{self.port}"

    @property
    def client(self) -> dict[str, Any]:
        return self.seeded.client

    def user(self, email: str) -> dict[str, Any]:
        return self.seeded.users[email]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running_server(
    database_url: str, log_path: Path, port: int | None = None, env: Mapping[str, str] | None = None
) -> Iterator[int]:
    """`tessera --database-url URL serve --port PORT` until the block ends; yields the port.
    `env` adds settings (TESSERA_*) to the server's environment."""
    port = port or free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [TESSERA, "--database-url", database_url, "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**clean_env(database_url), **(env or {})},
            cwd=tempfile.gettempdir(),
        )
        try:
            _wait_until_answering(process, port, log_path)
            yield port
        finally:
            stop(process)


def _wait_until_answering(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=1) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"tessera serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                probe.get(f"http://127.0.0.1:{port}/", headers={"Host": f"localhost:{port}"})
                return
            except httpx.TransportError:
                time.sleep(0.05)
    raise RuntimeError(f"tessera serve did not answer on port {port} within 30 s:\n{log_path.read_text()}")


@dataclass(frozen=True)
class Authorized:
    """Where the server finally sent the user agent, and whether a consent page was shown."""

    location: str
    consent_shown: bool
    consent_page: str = ""  # the consent page's HTML, when it was shown


def sign_in_and_allow(authorization_url: str, email: str, password: str = PASSWORD) -> Authorized:
    """Be the browser over plain HTTP: follow the authorization URL to the real login form,
    fill and post it, then submit the real consent form with Allow (when it is shown)."""
    with http_client() as browser:
        first = browser.get(authorization_url)
        assert first.status_code == 302, first.text
        login_url = urljoin(authorization_url, first.headers["location"])
        assert urlsplit(login_url).path == "/access/login", login_url
        page = browser.get(login_url)
        assert page.status_code == 200, page.text
        login = next(f for f in forms(page.text) if "password" in f.fields)
        assert login.method == "post"
        assert login.fields["authenticity_token"], "the login form carries a CSRF token"
        signed_in = browser.post(
            urljoin(login_url, login.action), data=dict(login.fields, email=email, password=password)
        )
        assert signed_in.status_code in (302, 303), signed_in.text
        back = urljoin(login_url, signed_in.headers["location"])
        page = browser.get(back)
        if page.status_code != 200:
            assert page.status_code == 302, page.text
            return Authorized(page.headers["location"], consent_shown=False)
        consent = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
        assert consent.method == "post"
        assert 'name="decision" value="allow"' in page.text
        assert consent.fields["authenticity_token"], "the consent form carries a CSRF token"
        allowed = browser.post(urljoin(back, consent.action), data=dict(consent.fields, decision="allow"))
        assert allowed.status_code in (302, 303), allowed.text
        return Authorized(allowed.headers["location"], consent_shown=True, consent_page=page.text)


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if the server has not exited 10 s later."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def race(issuer: str, racers: int, send: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """`racers` threads, each with its own warmed-up connection, call `send` at the same
    moment (a barrier releases them); every thread's answer, or the test fails."""
    start = threading.Barrier(racers)
    results: list[httpx.Response | BaseException] = [RuntimeError("no answer")] * racers

    def racer(index: int) -> None:
        try:
            with http_client() as http:
                http.get(f"{issuer}/")  # open the connection before the race
                start.wait(timeout=10)
                results[index] = send(http)
        except BaseException as error:  # reported by the assertion below
            results[index] = error

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    answers = [r for r in results if isinstance(r, httpx.Response)]
    assert len(answers) == racers, results
    return answers
