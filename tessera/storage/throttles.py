"""Throttle counters kept in the database, so that a limit holds across nodes.

Check and count are one statement: INSERT ... ON CONFLICT DO UPDATE ... RETURNING (SQLite
3.35 and later, PostgreSQL). The row is locked (PostgreSQL) or the database is (SQLite)
while the statement decides, so of concurrent attempts each sees the count left by the one
before it, and a burst cannot pass before the counter moves. The decision is kept in the
row's `admitted` column so that RETURNING reports what this very statement decided.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from tessera.backoff import Rule
from tessera.model import AuditEntry
from tessera.storage.audit import audited
from tessera.storage.audit import insert as insert_audit
from tessera.storage.database import Database
from tessera.storage.schema import throttles

_KEY_LENGTH = 320  # schema.throttles.c.key


@dataclass(frozen=True, slots=True)
class Counted:
    """What one attempt met: let through (with the failures counted so far), or refused
    for `retry_after` more seconds."""

    admitted: bool
    failures: int
    retry_after: int


def _seconds(wait: float) -> int:
    """Whole seconds, rounding up; `now + 60 - now` may come back as 60.0000001."""
    return max(0, math.ceil(round(wait, 3)))


def _key(key: str) -> str:
    return key[:_KEY_LENGTH]


def _upsert(conn: Connection):  # type: ignore[no-untyped-def]
    return (sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert)(throttles)


def _blocked_until(rule: Rule, failures: sa.ColumnElement[int], now: float) -> sa.ColumnElement[float]:
    """now + rule.wait_after(failures) as SQL, one branch per step until the window; no wait
    is 0, not `now`: an attempt whose clock read a moment earlier must not see it as a wait."""
    steps = [(failures == count, now + wait) for count, wait in rule.schedule()[:-1]]
    return sa.case((failures < rule.limit, 0.0), *steps, else_=now + rule.window)


def _until(wait: int, now: float) -> float:
    return now + wait if wait > 0 else 0.0


def attempt(conn: Connection, rule: Rule, key: str, now: float) -> Counted:
    """Count one attempt against `key`, unless it must wait: then count nothing and refuse."""
    t = throttles
    blocked = t.c.blocked_until > now
    failures = sa.case((t.c.resets_at <= now, 1), else_=t.c.failures + 1)
    statement = _upsert(conn).values(
        kind=rule.kind,
        key=_key(key),
        failures=1,
        blocked_until=_until(rule.wait_after(1), now),
        resets_at=now + rule.window,
        admitted=1,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[t.c.kind, t.c.key],
        set_={
            # Every expression reads the row as it was before this statement.
            "admitted": sa.case((blocked, 0), else_=1),
            "failures": sa.case((blocked, t.c.failures), else_=failures),
            "blocked_until": sa.case((blocked, t.c.blocked_until), else_=_blocked_until(rule, failures, now)),
            "resets_at": sa.case((blocked, t.c.resets_at), else_=now + rule.window),
        },
    ).returning(t.c.admitted, t.c.failures, t.c.blocked_until)
    row = conn.execute(statement).one()
    return Counted(bool(row.admitted), int(row.failures), _seconds(row.blocked_until - now))


def attempt_each(conn: Connection, counts: Iterable[tuple[Rule, str]], now: float) -> list[Counted]:
    """Count against each (rule, key) in turn, stopping after the first that refuses. A
    refused attempt counts nowhere: what the keys before it counted is taken back (in the
    same transaction), or an email under its wait would use up its address's attempts and
    lock out everyone else signing in from there."""
    met: list[Counted] = []
    counted: list[tuple[Rule, str]] = []
    for rule, key in counts:
        met.append(attempt(conn, rule, key, now))
        if not met[-1].admitted:
            for earlier_rule, earlier_key in counted:
                refund(conn, earlier_rule, earlier_key)
            break
        counted.append((rule, key))
    return met


def refund(conn: Connection, rule: Rule, key: str) -> None:
    """Take back one attempt counted in advance that turned out not to be a failure."""
    t = throttles
    left = t.c.failures - 1
    conn.execute(
        t.update()
        .where((t.c.kind == rule.kind) & (t.c.key == _key(key)) & (t.c.failures > 0))
        .values(failures=left, blocked_until=sa.case((left < rule.limit, 0.0), else_=t.c.blocked_until))
    )


def clear(conn: Connection, kind: str, key: str) -> None:
    conn.execute(throttles.delete().where((throttles.c.kind == kind) & (throttles.c.key == _key(key))))


def blocked_for(conn: Connection, kind: str, key: str, now: float) -> int | None:
    """Seconds until `key` may try again, or None (for an admin's view, not for deciding)."""
    row = conn.execute(
        sa.select(throttles.c.blocked_until).where((throttles.c.kind == kind) & (throttles.c.key == _key(key)))
    ).first()
    return None if row is None or row.blocked_until <= now else _seconds(row.blocked_until - now)


def purge_reset(conn: Connection, now: float) -> int:
    """Delete counters whose run of failures is over: they would start again from one."""
    return int(conn.execute(throttles.delete().where(throttles.c.resets_at <= now)).rowcount)


class SqlThrottleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def attempt(self, counts: Iterable[tuple[Rule, str]], now: float) -> list[Counted]:
        """Count one attempt against each key in one transaction, stopping at a refusal."""
        return await self.db.write(attempt_each, list(counts), now)

    async def succeeded(
        self,
        clear_keys: Iterable[tuple[str, str]],
        refunds: Iterable[tuple[Rule, str]],
        audit: Iterable[AuditEntry] = (),
    ) -> None:
        """A counted attempt turned out right: clear some counters, refund others, and audit it."""
        cleared, refunded, entries = list(clear_keys), list(refunds), list(audit)

        def write(conn: Connection) -> None:
            for kind, key in cleared:
                clear(conn, kind, key)
            for rule, key in refunded:
                refund(conn, rule, key)
            insert_audit(conn, entries)

        await self.db.write(write)

    async def clear(self, kind: str, key: str, audit: Iterable[AuditEntry] = ()) -> None:
        entries = list(audit)
        await self.db.write(audited(clear, lambda _: entries), kind, key)

    async def blocked_for(self, kind: str, key: str, now: float) -> int | None:
        return await self.db.read(blocked_for, kind, key, now)
