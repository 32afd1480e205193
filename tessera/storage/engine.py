"""Engines and connections as every execution strategy opens them.

Connections run in SQLAlchemy's AUTOCOMMIT mode so that SQLAlchemy never issues its own
BEGIN or COMMIT: the execution strategy (sqlite_writer.py, postgres_loop.py) owns transaction
boundaries, issued on the driver connection; the storage functions own statements.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None: the sqlite3 module must not open transactions behind our back.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Temporary files in memory: above all the sub-journal, where SQLite keeps the old
    # content of each page a write batch's SAVEPOINT modifies again (sqlite_writer.py).
    # It spills to a temporary file past 64 KiB, which a batch of code redemptions or
    # refresh rotations passed: a file opened and closed per batch and ~25 pwrite calls
    # per request. It only serves ROLLBACK TO within the open transaction, never recovery,
    # so durability is the WAL's alone either way; a batch's pages are at most a few MB.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def create_engine(url: str, timeout: float | None = None) -> Engine:
    """`timeout` (seconds; the serving path passes TESSERA_DATABASE_TIMEOUT) bounds, on
    PostgreSQL, connecting, each statement and each lock wait, so that a locked table or a
    hung server gives an error the caller can answer 503 for instead of a stalled request.
    None (migrations, the CLI's long operations) leaves the server's own defaults."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, poolclass=NullPool, connect_args=timeout_arguments(timeout))


def timeout_arguments(timeout: float | None) -> dict[str, Any]:
    """PostgreSQL connection arguments that bound connecting, each statement and each lock
    wait by `timeout` seconds; none for None."""
    if timeout is None:
        return {}
    options = " ".join(f"-c {name}={value}" for name, value in server_timeouts(timeout).items())
    # libpq counts whole seconds and treats less than 2 as 2.
    return {"connect_timeout": max(2, round(timeout)), "options": options}


def server_timeouts(timeout: float) -> dict[str, str]:
    """The server settings that cancel a statement or a lock wait past `timeout` seconds."""
    millis = str(max(1, round(timeout * 1000)))
    return {"statement_timeout": millis, "lock_timeout": millis}


def autocommit(engine: Engine) -> Connection:
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")
