"""SQLite reads, inline on the event-loop thread (the reading half of sqlite_writer.py).

Reads run on a connection of their own: a WAL reader never waits for the writer, and an
indexed lookup costs less than a hop to a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine

from tessera.storage.engine import autocommit
from tessera.storage.errors import DatabaseErrors

T = TypeVar("T")


class InlineReader:
    def __init__(self, engine: Engine, timeout: float, errors: DatabaseErrors) -> None:
        self._engine = engine
        self._timeout = timeout
        self._errors = errors
        self._connection: Connection | None = None
        # Only matters when several threads share the Database (tests, CLI); ~0.1 us
        # uncontended.
        self._lock = threading.Lock()

    def _open(self) -> Connection:
        if self._connection is None:
            self._connection = autocommit(self._engine)
            # A WAL reader waits only for rare exclusive locks (recovery, another process's
            # exclusive mode); it waits on the loop thread, so never longer than the timeout.
            raw: Any = self._connection.connection.driver_connection
            raw.execute(f"PRAGMA busy_timeout={max(1, round(self._timeout * 1000))}")
        return self._connection

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            try:
                return fn(self._open(), *args)
            except Exception as error:
                raise self._errors.translate(error)  # noqa: B904 (translate names the cause)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
