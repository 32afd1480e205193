"""The readiness probe's question to the database (storage/health.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tessera.storage import health, migrate
from tessera.storage.database import open_database
from tessera.storage.errors import StorageUnavailable


def test_an_sqlite_file_removed_while_open_is_not_ready(tmp_path: Path) -> None:
    """The open connections keep answering from the removed file, and every write after
    goes where nobody will read it: /readyz says so, and the node is taken out."""
    path = tmp_path / "gone" / "tessera.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    db = open_database(url)
    try:
        asyncio.run(db.read(health.ping))
        path.unlink()
        with pytest.raises(StorageUnavailable, match="was removed while open"):
            asyncio.run(db.read(health.ping))
    finally:
        db.close()
