"""The periodic purge beside the requests (tessera/housekeeping.py)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from tessera import housekeeping
from tessera.storage.errors import StorageUnavailable


def test_an_unavailable_database_is_one_warning_line_per_purge_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """During an outage every interval's purge fails; the log says so in one line, and the
    purge keeps running to succeed once the database is back."""
    calls = 0

    async def unavailable(_db: Any, _settings: Any) -> None:
        nonlocal calls
        calls += 1
        raise StorageUnavailable("the database did not answer within 5 s")

    monkeypatch.setattr(housekeeping, "purge_once", unavailable)

    async def run_a_while() -> None:
        task = asyncio.ensure_future(housekeeping.run_forever(None, SimpleNamespace(purge_interval=0.01)))  # type: ignore[arg-type]
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="tessera.housekeeping"):
        asyncio.run(run_a_while())
    assert calls >= 2
    records = [r for r in caplog.records if r.name == "tessera.housekeeping"]
    assert records and all(r.levelno == logging.WARNING and r.exc_info is None for r in records)
    assert "did not answer within 5 s" in records[0].getMessage()
