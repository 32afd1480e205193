"""Seeding a benchmark database: one account, its users and clients through the management
layer (as the CLI would), and codes, refresh tokens and access tokens minted in bulk
straight into the tables, with their plaintext written to files the load generator reads.

Bulk rows are inserted with executemany in large transactions: minting 100,000 codes
through the HTTP flow would take longer than the benchmark itself.
"""

from __future__ import annotations

import asyncio
import secrets as random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tessera.management import accounts, clients, users
from tessera.model import Client
from tessera.protocol import pkce, secrets
from tessera.storage import migrate, schema
from tessera.storage.database import create_engine, open_database
from tessera.storage.stores import Stores

SUBDOMAIN = "bench"
PASSWORD = "bench password 1"
REDIRECT_URI = "http://127.0.0.1/callback"
BATCH = 20_000


@dataclass(frozen=True)
class Seeded:
    account_id: int
    admin_id: int
    cc: tuple[str, str]  # confidential client_credentials client: (client_id, secret)
    web: tuple[str, str]  # confidential authorization_code + refresh_token client
    web_id: int
    resource_server: tuple[str, str]  # --introspection client
    legacy: tuple[str, str]  # password grant client


async def _seed(url: str) -> Seeded:
    db = open_database(url)
    stores = Stores.over(db)
    now = time.time()
    try:
        account = await accounts.create(stores, SUBDOMAIN, "Bench", now)
        admin = await users.create(stores, account, "admin@bench.example", PASSWORD, "admin", "Admin", now)

        async def client(identifier: str, **spec: Any) -> tuple[Client, str]:
            made, secret = await clients.create(
                stores, clients.ClientSpec(name=identifier, identifier=identifier, account=account, **spec), now
            )
            assert secret is not None
            return made, secret

        cc, cc_secret = await client("bench-cc", grant_types=("client_credentials",))
        web, web_secret = await client("bench-web", redirect_uris=(REDIRECT_URI,))
        rs, rs_secret = await client("bench-rs", grant_types=("client_credentials",), introspection=True)
        legacy, legacy_secret = await client("bench-legacy", grant_types=("password",))
        return Seeded(
            account_id=account.id,
            admin_id=admin.id,
            cc=(cc.identifier, cc_secret),
            web=(web.identifier, web_secret),
            web_id=web.id,
            resource_server=(rs.identifier, rs_secret),
            legacy=(legacy.identifier, legacy_secret),
        )
    finally:
        await db.aclose()


def seed(url: str) -> Seeded:
    migrate.upgrade(url)
    return asyncio.run(_seed(url))


def _begin(conn: sa.Connection) -> None:
    """Open a real transaction. Tessera's SQLite connections run the driver in autocommit
    (isolation_level=None: it issues its own BEGIN), so without this every row would be a
    transaction of its own, with its own fsync; the context manager's COMMIT ends it."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _write(engine: sa.Engine, table: sa.Table, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:
        _begin(conn)
        for start in range(0, len(rows), BATCH):
            conn.execute(table.insert(), rows[start : start + BATCH])


def mint_codes(url: str, seeded: Seeded, count: int, path: Path) -> str:
    """`count` unused codes for the web client, each with a PKCE challenge; writes one
    "code verifier" pair per line to `path` and returns the redirect URI to send."""
    now = time.time()
    verifier = random.token_urlsafe(48)  # one verifier for all: PKCE is checked, not varied
    challenge = pkce.s256(verifier)
    lines, rows = [], []
    for _ in range(count):
        code = secrets.new_token(secrets.CODE_PREFIX)
        lines.append(f"{code} {verifier}")
        rows.append(
            {
                "digest": secrets.digest(code),
                "account_id": seeded.account_id,
                "client_id": seeded.web_id,
                "user_id": seeded.admin_id,
                "redirect_uri": REDIRECT_URI,
                "scopes": "read",
                "code_challenge": challenge,
                "nonce": "",
                "family": secrets.new_family(),
                "auth_time": now,
                "created_at": now,
                "expires_at": now + 3600,
            }
        )
    engine = create_engine(url)
    try:
        _write(engine, schema.authorization_codes, rows)
    finally:
        engine.dispose()
    path.write_text("\n".join(lines) + "\n")
    return REDIRECT_URI


def mint_tokens(
    url: str,
    seeded: Seeded,
    count: int,
    *,
    refresh_path: Path | None = None,
    access_path: Path | None = None,
    expired: bool = False,
) -> list[str]:
    """`count` access tokens (with refresh tokens when `refresh_path` is given, written there
    one per line; the access tokens written to `access_path` if given); returns the access
    tokens' plaintext when there are few, else []."""
    now = time.time()
    expires_at = now - 7200 if expired else now + 86_400
    engine = create_engine(url)
    plain: list[str] = []
    refresh_lines: list[str] = []
    access_lines: list[str] = []
    try:
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            access_rows, refresh_rows = [], []
            for _ in range(size):
                token = secrets.new_token(secrets.ACCESS_TOKEN_PREFIX)
                family = secrets.new_family()
                if count <= 1000:
                    plain.append(token)
                if access_path is not None:
                    access_lines.append(token)
                access_rows.append(
                    {
                        "digest": secrets.digest(token),
                        "token_prefix": token[:10],
                        "account_id": seeded.account_id,
                        "client_id": seeded.web_id,
                        "user_id": seeded.admin_id,
                        "scopes": "read",
                        "family": family,
                        "created_at": now,
                        "expires_at": expires_at,
                    }
                )
                if refresh_path is not None:
                    refresh = secrets.new_token(secrets.REFRESH_TOKEN_PREFIX)
                    refresh_lines.append(refresh)
                    refresh_rows.append(
                        {
                            "digest": secrets.digest(refresh),
                            "account_id": seeded.account_id,
                            "client_id": seeded.web_id,
                            "user_id": seeded.admin_id,
                            "access_token_id": None,
                            "scopes": "read",
                            "family": family,
                            "created_at": now,
                            "expires_at": now + 2_592_000,
                        }
                    )
            with engine.begin() as conn:
                _begin(conn)
                conn.execute(schema.access_tokens.insert(), access_rows)
                if refresh_rows:
                    conn.execute(schema.refresh_tokens.insert(), refresh_rows)
    finally:
        engine.dispose()
    if refresh_path is not None:
        refresh_path.write_text("\n".join(refresh_lines) + "\n")
    if access_path is not None:
        access_path.write_text("\n".join(access_lines) + "\n")
    return plain
