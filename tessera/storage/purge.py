"""Housekeeping: delete rows that can no longer be used, in small batches.

What goes: access and refresh tokens, codes, device authorizations, pushed authorization
requests and sessions that expired or were revoked
more than RETENTION seconds ago (kept that long so that a client still hears "expired 5
minutes ago" rather than "not valid"), initial access tokens for dynamic registration
expired as long ago, used or not (the audit log keeps their story), password-reset tokens
expired or spent as long ago, and throttle counters whose run of failures is over. A used
refresh token stays until it expires: presented again, it is the evidence of theft that
revokes its family (RFC 9700 section 4.14.2).

Each batch is its own short transaction, so serving goes on between batches; on SQLite a
batch is one job of the group-committing writer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tessera.storage import audit, keys
from tessera.storage import changes as change_rows
from tessera.storage import password_resets as reset_rows
from tessera.storage import throttles as throttle_rows
from tessera.storage import used_once as used_once_rows
from tessera.storage.database import Database
from tessera.storage.schema import (
    access_tokens,
    audit_logs,
    authorization_codes,
    changes,
    device_codes,
    password_resets,
    pushed_requests,
    refresh_tokens,
    registration_tokens,
    sessions,
    signing_keys,
    throttles,
    used_once,
)

RETENTION = 3600
# A retired signing key is deleted once no token it signed can still be alive (the key
# ring stops publishing it at the same horizon): a JWT access token lives 48 h at most.
RETIRED_KEYS_KEPT = 172_800 + 3600
# A batch of 500 held the SQLite writer ~15 ms (each row also leaves four indexes), which
# showed as a token p99 of 55-79 ms while a million rows were purged (docs/benchmarks.md).
BATCH = 200
PAUSE = 0.01
DUTY = 4.0


@dataclass(frozen=True)
class Purged:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _dead(table: sa.Table, horizon: float) -> list[sa.ColumnElement[bool]]:
    """Each way a row of the table can be dead, as a separate question that an index answers
    (ix_*_expires_at, ix_*_revoked_at): asked with OR, they read the whole table."""
    conditions = [sa.and_(table.c.expires_at.is_not(None), table.c.expires_at <= horizon)]
    if "revoked_at" in table.c:
        conditions.append(sa.and_(table.c.revoked_at.is_not(None), table.c.revoked_at <= horizon))
    return conditions


def _batch(table: sa.Table, condition: sa.ColumnElement[bool], limit: int) -> Callable[[Connection], int]:
    def delete(conn: Connection) -> int:
        doomed = sa.select(table.c.id).where(condition).limit(limit).scalar_subquery()
        return conn.execute(table.delete().where(table.c.id.in_(doomed))).rowcount

    return delete


async def purge(
    db: Database,
    now: float,
    *,
    audit_retention: float = 365 * 86400,
    batch: int = BATCH,
    pause: float = PAUSE,
) -> Purged:
    horizon = now - RETENTION
    counts: dict[str, int] = {}
    for table in (refresh_tokens, access_tokens, authorization_codes, device_codes, pushed_requests, sessions):
        total = 0
        for condition in _dead(table, horizon):
            step = _batch(table, condition, batch)
            while True:
                started = time.monotonic()
                deleted = await db.write(step)
                total += deleted
                if deleted < batch:
                    break
                # Serving first: rest at least DUTY times as long as the batch took, so the
                # purge holds the writer (on SQLite, the event loop) a fraction of the time.
                await asyncio.sleep(max(pause, DUTY * (time.monotonic() - started)))
        counts[table.name] = total
    counts[throttles.name] = await db.write(lambda conn: throttle_rows.purge_reset(conn, now))
    counts[used_once.name] = await db.write(lambda conn: used_once_rows.purge_expired(conn, now))
    counts[signing_keys.name] = await db.write(lambda conn: keys.purge_retired(conn, now - RETIRED_KEYS_KEPT))
    counts[changes.name] = await db.write(lambda conn: change_rows.purge_old(conn, now))
    counts[audit_logs.name] = await _in_batches(
        db, lambda conn: audit.purge_older_than(conn, now - audit_retention, batch)
    )
    expired = registration_tokens.c.expires_at <= horizon
    counts[registration_tokens.name] = await _in_batches(db, _batch(registration_tokens, expired, batch))
    counts[password_resets.name] = await _in_batches(db, lambda conn: reset_rows.purge_dead(conn, horizon, batch))
    return Purged(counts)


async def _in_batches(db: Database, step: Callable[[Connection], int]) -> int:
    """Run a batch-deleting step until it deletes nothing."""
    total = 0
    while deleted := await db.write(step):
        total += deleted
    return total
