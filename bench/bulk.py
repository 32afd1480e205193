"""Bulk-loading millions of access tokens into a SQLite store, for the scale experiments.

Rows are what Tessera itself writes (storage/token_columns.insert): a token of the real format
(secrets.new_token: "tsa_", 44 random base64url characters, then 8 for the issue time), stored under the real digest function
(tessera.protocol.secrets.digest), spread over BULK_USERS users of the web client, each
with its own random family. Only the generation is cheap: the random bytes of a whole
chunk come from one os.urandom call and are base64-encoded at once.

Loading goes through the stdlib sqlite3 module in one transaction (no journal, no fsync:
a benchmark store that a crash would simply rebuild). Random keys inserted one by one
into a ten-million-entry index are what makes a naive load slow, so rows are staged in a
scratch table and copied into access_tokens sorted by digest (the unique digest index
fills front to back), and the secondary indexes (expires_at, family, user/client) are
dropped first and re-created from their own SQL afterwards (one sort each). The store ends as the migrations leave it, in WAL mode,
checkpointed, so the server starts on a clean file.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from tessera.protocol import secrets

CHUNK = 100_000
BULK_USERS = 1_000
RANDOM_CHARS = 44  # secrets.new_token: 33 random bytes, then the issue time
# Page cache for the load (the sorts and index builds).
CACHE_BYTES_PER_ROW = 120
MAX_CACHE_BYTES = 3 * 2**30
# The columns storage/token_columns.insert writes, in the order _rows yields them.
_STAGE = """CREATE TEMP TABLE staged AS
  SELECT digest, token_prefix, account_id, client_id, user_id, scopes, family, created_at, expires_at
  FROM access_tokens WHERE 0"""
_INSERT_STAGED = "INSERT INTO staged VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_COPY = """INSERT INTO access_tokens
  (digest, token_prefix, account_id, client_id, user_id, scopes, family, created_at, expires_at)
  SELECT digest, token_prefix, account_id, client_id, user_id, scopes, family, created_at, expires_at
  FROM staged ORDER BY digest"""


def sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"bulk loading needs a SQLite URL, not {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def _chunk(n: int) -> tuple[str, str]:
    # 33 random bytes encode to 44 base64 characters without padding.
    text = base64.urlsafe_b64encode(os.urandom(33 * n)).decode()
    families = os.urandom(16 * n).hex()
    return text, families


def _rows(
    count: int, account_id: int, client_id: int, users: list[int], created_at: float, expires_at: float
) -> Iterator[tuple[object, ...]]:
    digest, prefix, shown = secrets.digest, secrets.ACCESS_TOKEN_PREFIX, secrets.TOKEN_SHOWN
    issued = base64.urlsafe_b64encode(int(created_at * 1000).to_bytes(6, "big")).decode()
    n_users = len(users)
    made = 0
    while made < count:
        n = min(CHUNK, count - made)
        text, families = _chunk(n)
        for i in range(n):
            token = prefix + text[RANDOM_CHARS * i : RANDOM_CHARS * (i + 1)] + issued
            yield (
                digest(token),
                token[:shown],
                account_id,
                client_id,
                users[(made + i) % n_users],
                "read",
                families[32 * i : 32 * i + 32],
                created_at,
                expires_at,
            )
        made += n


def _users(db: sqlite3.Connection, account_id: int, model_user: int) -> list[int]:
    """BULK_USERS end users of the account (created once, sharing one password hash), so
    that the tokens' user/client index has realistic keys."""
    existing = [r[0] for r in db.execute("SELECT id FROM users WHERE email LIKE 'bulk-%@bench.example' ORDER BY id")]
    if len(existing) >= BULK_USERS:
        return existing
    password_hash, now = db.execute(
        "SELECT password_hash, created_at FROM users WHERE id = ?", (model_user,)
    ).fetchone()
    db.executemany(
        "INSERT INTO users (account_id, email, name, role, password_hash, created_at, updated_at)"
        " VALUES (?, ?, ?, 'end-user', ?, ?, ?)",
        (
            (account_id, f"bulk-{k}@bench.example", f"Bulk {k}", password_hash, now, now)
            for k in range(len(existing), BULK_USERS)
        ),
    )
    return [r[0] for r in db.execute("SELECT id FROM users WHERE email LIKE 'bulk-%@bench.example' ORDER BY id")]


def load_access_tokens(
    url: str, *, account_id: int, client_id: int, model_user: int, count: int, expired: bool = False
) -> float:
    """Add `count` access tokens, live for a day or (`expired`) expired two hours ago;
    returns the seconds it took."""
    started = time.perf_counter()
    now = time.time()
    created_at, expires_at = (now - 10_800, now - 7200) if expired else (now, now + 86_400)
    db = sqlite3.connect(sqlite_path(url), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")  # leave WAL: no write of everything twice
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA cache_size=-{min(MAX_CACHE_BYTES, max(2**26, count * CACHE_BYTES_PER_ROW)) // 1024}")
        db.execute("BEGIN")
        users = _users(db, account_id, model_user)
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'access_tokens' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        # Rows go to a scratch table first, then into access_tokens in digest order, so
        # the digest index is filled front to back instead of at random.
        db.execute(_STAGE)
        db.executemany(
            _INSERT_STAGED,
            _rows(count, account_id, client_id, users, created_at, expires_at),
        )
        db.execute(_COPY)
        db.execute("DROP TABLE staged")
        for _, sql in indexes:
            db.execute(sql)
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    # synchronous=OFF left the load in the page cache; the kernel writes it back over the
    # next minute, and the server's fsyncs measured next would wait behind gigabytes of
    # someone else's writes (seen: 10M-token p99 13 ms and throughput -14% right after a
    # load). The load is not done until it is on disk.
    os.sync()
    return time.perf_counter() - started


def count_access_tokens(url: str, *, expired_before: float | None = None) -> int:
    """Rows in access_tokens (those expired before `expired_before` when given), read on a
    connection of its own: a WAL reader, it never blocks the server's writer."""
    db = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True)
    try:
        if expired_before is None:
            return int(db.execute("SELECT count(*) FROM access_tokens").fetchone()[0])
        return int(
            db.execute("SELECT count(*) FROM access_tokens WHERE expires_at <= ?", (expired_before,)).fetchone()[0]
        )
    finally:
        db.close()
