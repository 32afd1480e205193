"""SQLite's WAL checkpoints, run so that commits never pay for them (sqlite_writer.py's
SQLiteDatabase takes these steps from WalCheckpoints; the state they read and set is the
writer's, declared below).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine

from tessera.storage.engine import autocommit
from tessera.storage.sqlite_batch import (
    CATCH_UP_DUE,
    CATCHING_UP,
    COPYING,
    IDLE,
    NO_CHECKPOINT,
    Checkpoint,
    WriteJob,
    Writer,
    failure,
)

log = logging.getLogger("tessera.storage")


class WalCheckpoints:
    """The two steps of a checkpoint (`_start_checkpoint`, `_catch_up`) of the writer."""

    engine: Engine
    _loop: asyncio.AbstractEventLoop | None
    _state: Writer
    _pending: list[WriteJob]
    _commit_thread: ThreadPoolExecutor
    _checkpoint_thread: ThreadPoolExecutor
    _checkpointer: Any
    _commits_since_checkpoint: int
    _checkpoint: Checkpoint
    _copying: concurrent.futures.Future[Any] | None
    _catching_up: concurrent.futures.Future[Any] | None

    def _flush(self) -> None:
        raise NotImplementedError  # the writer's: start the next batch

    def _writer_raw(self) -> Any:
        raise NotImplementedError  # the writer's: its driver connection

    def _start_checkpoint(self) -> None:
        """Keep the WAL small, in two steps, so that commits never pay for it.

        1. A PASSIVE checkpoint on its own connection and thread copies the bulk of the WAL
           into the database beside the writer, blocking neither it nor readers.
        2. It can never finish while commits keep appending, and SQLite only starts the WAL
           over once a checkpoint has copied every frame: without step 2 the WAL grew by
           ~10 KB per token under load (measured: 2.2 GB after a few benchmark runs). So
           after step 1 the writer holds its next batch while a second PASSIVE checkpoint,
           on the writer's connection, copies only the frames that arrived during step 1;
           the next BEGIN then restarts the WAL from its first frame.
        """
        if self._checkpoint is not NO_CHECKPOINT:
            return
        # A copy an earlier loop started may still run (_adopt forgets its state, not it).
        if self._copying is not None and not self._copying.done():
            return
        self._commits_since_checkpoint = 0
        self._checkpoint = COPYING
        loop = asyncio.get_running_loop()

        def run() -> None:
            if self._checkpointer is None:
                self._checkpointer = autocommit(self.engine)
            driver: Any = self._checkpointer.connection.driver_connection
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        def copied(future: asyncio.Future[Any]) -> None:
            if (error := failure(future)) is not None:
                log.warning("sqlite checkpoint failed: %s", error)
            if loop is not self._loop:
                return
            if self._state is not IDLE:
                self._checkpoint = CATCH_UP_DUE  # after the commit in flight (see _committed)
            else:
                self._catch_up()

        self._copying = self._checkpoint_thread.submit(run)
        asyncio.wrap_future(self._copying, loop=loop).add_done_callback(copied)

    def _catch_up(self) -> None:
        """Step 2 of _start_checkpoint: no batch starts until it is done (CATCHING_UP)."""
        self._checkpoint = NO_CHECKPOINT
        self._state = CATCHING_UP
        loop = asyncio.get_running_loop()
        raw = self._writer_raw()

        def run() -> None:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        def done(future: asyncio.Future[Any]) -> None:
            if (error := failure(future)) is not None:
                log.warning("sqlite checkpoint failed: %s", error)
            if loop is not self._loop:
                return
            self._catching_up = None
            self._state = IDLE
            if self._pending:
                self._flush()

        self._catching_up = self._commit_thread.submit(run)
        asyncio.wrap_future(self._catching_up, loop=loop).add_done_callback(done)
