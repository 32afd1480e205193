"""bench/tiers.py's WAL probe between two marks with nothing written in between (a
read-only run on an idle cluster): pg_walinspect refuses such a range ("cannot accept
future start LSN"), which ended a whole `make bench` at its last section; it must read as
no WAL, and the probe's slot must be dropped even after an error in its session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from bench.tiers import Probe, Wal
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def probe(worker_id: str) -> Iterator[Probe]:
    for url in _postgres_database(worker_id):
        probe = Probe(url, POSTGRES_ADMIN_URL, [], os.getpid(), settle=0)
        try:
            yield probe
        finally:
            probe.close()


def test_no_wal_between_two_equal_marks_reads_as_none_written(probe: Probe) -> None:
    with probe.wal_held():
        lsn = probe.mark().wal_lsn
        assert probe.wal(lsn, lsn) == Wal(0, 0 if probe.walinspect else None, 0 if probe.walinspect else None)


def test_the_slot_is_dropped_even_when_the_session_failed_inside(probe: Probe) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero), probe.wal_held():
        probe.conn.execute("SELECT 1 / 0")
    slots = probe.conn.execute("SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s", (probe.slot,))
    assert slots.fetchone() == (0,)
