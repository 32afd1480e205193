"""CPU cost per request, in process: the app is driven through ASGI directly, 32 requests
at a time, with no HTTP server and no load generator on the same core. Reports CPU
microseconds per request (this process, all threads) for each route, so that a change to
the hot path can be measured without wrk's noise. Not a throughput figure; `make bench`
gives those.

    python -m bench.inprocess [--requests N] [--metrics] [--engine sqlite|postgresql] [--uvloop]

--metrics serves with TESSERA_METRICS=1, to measure what /metrics' counting costs.
--engine postgresql runs the same requests on a fresh PostgreSQL database (dropped after;
TESSERA_BENCH_POSTGRES_URL names the server, as for `make bench`): its CPU figures are this
process's alone, the database server's CPU is not in them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop
from joserfc.jwk import ECKey

from bench import dpop, seed
from bench.databases import drop_database, fresh_database
from tessera import gc_tuning
from tessera.app import create_app
from tessera.management import accounts, clients, users
from tessera.settings import Settings
from tessera.storage import migrate
from tessera.storage.database import open_database
from tessera.storage.stores import Stores

CONCURRENCY = 32


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, headers), receive, send)
    return status


async def _measure(name: str, total: int, one: Callable[[], Awaitable[int]], warm: int = 200) -> float:
    """CPU microseconds per request of `one`, run `total` times 32 at a time (printed too)."""

    async def worker(n: int) -> None:
        for _ in range(n):
            status = await one()
            if status >= 300:
                raise SystemExit(f"{name}: status {status}")

    await worker(warm)  # warm caches and compiled statements
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(total // CONCURRENCY) for _ in range(CONCURRENCY)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = (total // CONCURRENCY) * CONCURRENCY
    per_request = cpu / done * 1e6
    print(f"{name:24} {per_request:7.1f} us CPU/request   ({done / wall:7.0f} req/s wall, single thread)")
    return per_request


async def _token(app: Any, host: Any, basic: Any, form: Any, body: bytes, *extra: Any) -> str:
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(_scope("POST", "/oauth/tokens", [host, basic, form, *extra]), receive, send)
    return str(json.loads(b"".join(chunks))["access_token"])


async def dpop_vs_bearer(app: Any, host: tuple[bytes, bytes], basic: Any, form: Any, total: int) -> dict[str, float]:
    """GET /api/v2/users/me with a bearer token, then with a DPoP-bound token and a fresh
    proof per call (RFC 9449 section 7.1): CPU per request of each, and the ratio."""
    body = b"grant_type=client_credentials&scope=read"
    bearer = (b"authorization", b"Bearer " + (await _token(app, host, basic, form, body)).encode())
    me = "/api/v2/users/me"
    bearer_us = await _measure("GET users/me (bearer)", total, lambda: _call(app, "GET", me, [host, bearer], b""))
    key = ECKey.generate_key("P-256")
    token_proof = dpop.proof(key, "POST", "http://acme.localhost:8000" + dpop.TOKEN).encode()
    token = await _token(app, host, basic, form, body, (b"dpop", token_proof))
    auth = (b"authorization", b"DPoP " + token.encode())
    warm = 200
    proofs = iter(p.encode() for p in dpop.proofs(key, "http://acme.localhost:8000" + me, token, total + warm))
    dpop_us = await _measure(
        "GET users/me (DPoP)", total, lambda: _call(app, "GET", me, [host, auth, (b"dpop", next(proofs))], b""), warm
    )
    ratio = round(dpop_us / bearer_us, 3)
    print(f"DPoP / bearer CPU per request: {ratio}")
    return {"bearer_cpu_us": round(bearer_us, 1), "dpop_cpu_us": round(dpop_us, 1), "dpop_vs_bearer_cpu": ratio}


@dataclass(frozen=True)
class Made:
    """What _app created: the app, its database and URL, the secret of client_credentials
    client m, and the ids bench.seed mints codes and refresh tokens for (client web)."""

    app: Any
    db: Any
    url: str
    secret: str
    web: seed.Seeded


async def _app(with_metrics: bool = False, engine: str = "sqlite") -> Made:
    """A fresh database with account acme, its admin, a client_credentials client m and a
    confidential client web for codes and refresh tokens."""
    url = fresh_database(engine, Path(tempfile.mkdtemp(prefix="tessera-inprocess-")))
    migrate.upgrade(url)
    db = open_database(url)
    stores = Stores.over(db)
    now = time.time()
    account = await accounts.create(stores, "acme", "Acme", now)
    admin = await users.create(stores, account, "admin@example.com", "a long password", "admin", "Admin", now)
    _machine, secret = await clients.create(
        stores,
        clients.ClientSpec(name="m", identifier="m", account=account, grant_types=("client_credentials",)),
        now,
    )
    web, web_secret = await clients.create(
        stores,
        clients.ClientSpec(name="web", identifier="web", account=account, redirect_uris=(seed.REDIRECT_URI,)),
        now,
    )
    assert secret is not None and web_secret is not None
    settings = Settings(database_url=url, secret_key="k" * 40, access_log=False, purge_interval=0, metrics=with_metrics)
    app = create_app(settings, db=db)
    gc_tuning.tune_for_serving()  # as the server's lifespan does; the default GC dominates otherwise
    ids = seed.Seeded(account.id, admin.id, ("m", secret), ("web", web_secret), web.id, ("m", secret), ("m", secret))
    return Made(app, db, url, secret, ids)


def _mint(made: Made, count: int) -> tuple[list[bytes], list[bytes]]:
    """Request bodies redeeming `count` codes and `count` refresh tokens, minted straight
    into the tables as `make bench` does (bench/seed.py)."""
    with tempfile.TemporaryDirectory(prefix="tessera-inprocess-") as name:
        folder = Path(name)
        redirect = seed.mint_codes(made.url, made.web, count, folder / "codes.txt")
        seed.mint_tokens(made.url, made.web, count, refresh_path=folder / "refresh.txt")
        codes = [
            f"grant_type=authorization_code&code={c}&code_verifier={v}&redirect_uri={redirect}".encode()
            for c, v in (line.split() for line in (folder / "codes.txt").read_text().splitlines())
        ]
        refresh = [
            f"grant_type=refresh_token&refresh_token={t}".encode() for t in (folder / "refresh.txt").read_text().split()
        ]
    return codes, refresh


async def single_use(made: Made, host: Any, form: Any, total: int) -> None:
    """POST /oauth/tokens redeeming a code (PKCE verified), then rotating a refresh token,
    one credential per request."""
    warm = 200
    codes, refresh = _mint(made, total + warm)
    basic = (b"authorization", b"Basic " + base64.b64encode(":".join(made.web.web).encode()))
    for name, bodies in (("POST /oauth/tokens (code)", codes), ("POST /oauth/tokens (refresh)", refresh)):
        await _measure(name, total, _redeeming(made.app, [host, basic, form], iter(bodies)), warm)


def _redeeming(app: Any, headers: list[tuple[bytes, bytes]], bodies: Iterator[bytes]) -> Callable[[], Awaitable[int]]:
    return lambda: _call(app, "POST", "/oauth/tokens", headers, next(bodies))


async def run_dpop(total: int) -> dict[str, float]:
    """For `make bench` (bench/run.py): the DPoP / bearer figures on a fresh database."""
    made = await _app()
    host = (b"host", b"acme.localhost:8000")
    basic = (b"authorization", b"Basic " + base64.b64encode(f"m:{made.secret}".encode()))
    try:
        return await dpop_vs_bearer(
            made.app, host, basic, (b"content-type", b"application/x-www-form-urlencoded"), total
        )
    finally:
        await made.db.aclose()


async def main(total: int, with_metrics: bool = False, engine: str = "sqlite") -> None:
    made = await _app(with_metrics, engine)
    try:
        await _routes(made, total)
    finally:
        await made.db.aclose()
        drop_database(made.url)


async def _routes(made: Made, total: int) -> None:
    app, secret = made.app, made.secret
    host = (b"host", b"acme.localhost:8000")
    basic = (b"authorization", b"Basic " + base64.b64encode(f"m:{secret}".encode()))
    form = (b"content-type", b"application/x-www-form-urlencoded")
    body = b"grant_type=client_credentials&scope=read"
    await _measure("GET /healthz", total, lambda: _call(app, "GET", "/healthz", [host], b""))
    await _measure(
        "POST /oauth/tokens (cc)", total, lambda: _call(app, "POST", "/oauth/tokens", [host, basic, form], body)
    )
    await single_use(made, host, form, total)
    token = await _token(app, host, basic, form, body)
    bearer = (b"authorization", b"Bearer " + token.encode())
    await _measure("GET /api/v2/users/me", total, lambda: _call(app, "GET", "/api/v2/users/me", [host, bearer], b""))
    introspect = b"token=" + token.encode()
    await _measure(
        "POST /oauth/introspect",
        total,
        lambda: _call(app, "POST", "/oauth/introspect", [host, basic, form], introspect),
    )
    await dpop_vs_bearer(app, host, basic, form, total)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--metrics", action="store_true", help="serve with TESSERA_METRICS=1")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--uvloop", action="store_true", help="on uvloop, the loop `tessera serve` runs")
    arguments = parser.parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop if arguments.uvloop else None) as runner:
        runner.run(main(arguments.requests, arguments.metrics, arguments.engine))
