"""The database's answer to "are you there?", for GET /readyz."""

from __future__ import annotations

from sqlalchemy.engine import Connection


def ping(conn: Connection) -> None:
    conn.exec_driver_sql("SELECT 1").scalar()
