"""The periodic purge that `serve` runs beside the requests (storage/purge.py).

Every node runs it; the first run waits a random part of the interval so that nodes
started together do not purge together. Deleting the same dead rows twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import random

from tessera.settings import Settings
from tessera.storage import purge
from tessera.storage.database import Database
from tessera.storage.errors import StorageUnavailable

log = logging.getLogger("tessera.housekeeping")


async def purge_once(db: Database, settings: Settings) -> purge.Purged:
    """One purge with the settings' windows: the periodic one and `tessera tokens purge`."""
    return await purge.purge(
        db,
        settings.clock(),
        audit_retention=settings.audit_log_retention_days * 86400,
    )


async def run_forever(db: Database, settings: Settings) -> None:
    interval = settings.purge_interval
    await asyncio.sleep(random.uniform(0, interval))
    while True:
        try:
            purged = await purge_once(db, settings)
            if purged.total:
                log.info("purged %d dead rows: %s", purged.total, purged.counts)
        except StorageUnavailable as error:
            # The database is down or busy: the requests say so too, and the next purge
            # retries. One line, not a traceback every interval of an outage.
            log.warning("purge skipped, the database is unavailable: %s", error)
        except Exception:  # a failed purge must never stop the server; the next one retries
            log.exception("purge failed")
        await asyncio.sleep(interval)
