"""The database's answer to "are you there?", for GET /readyz."""

from __future__ import annotations

import os

from sqlalchemy.engine import Connection

from tessera.storage.errors import StorageUnavailable


def ping(conn: Connection) -> None:
    conn.exec_driver_sql("SELECT 1").scalar()
    if conn.dialect.name == "sqlite":
        _file_still_there(conn)


def _file_still_there(conn: Connection) -> None:
    """An SQLite file removed while open (its directory deleted, a restore gone wrong) still
    answers on the connections that hold it, and every write then goes into a file nobody
    will open again: not ready, so that the node is taken out and restarted."""
    for _seq, name, path in conn.exec_driver_sql("PRAGMA database_list").all():
        if name == "main" and path and not os.path.exists(path):
            raise StorageUnavailable(f"the database file {path} was removed while open; restore it and restart")
