"""Prometheus metrics (INTERFACE.md section 9), served at GET /metrics on the platform host
when TESSERA_METRICS=1 (tessera/web/endpoints/metrics.py; docs/reliability.md).

The counters anyone may move, all no-ops until `enable()` (create_app calls it when the
setting is on), so that a server without metrics pays one boolean test per call:

- `token_issued(grant_type)`: a token endpoint answered 200 (RFC 6749 section 5.1);
- `oauth_error(code)`: an OAuth error answered (RFC 6749 section 5.2, RFC 6750 section 3.1);
- `throttled(kind)`: an attempt refused by a throttle (429), `kind` naming the throttle
  ("sign_in", "client_authentication", ...); for the throttles to call.

Call them through the module (`metrics.throttled("sign_in")`). Label values must come
from a small fixed set (grant types, error codes, throttle names), never from the request
as sent: each distinct value is a series kept forever.

Each process keeps its own registry: with `tessera serve --workers N`, a scrape reaches
one worker and sees that worker's counts. Setting PROMETHEUS_MULTIPROC_DIR (an empty,
writable directory, emptied before each start) makes prometheus_client keep the counts in
files there, and /metrics then reports the sum over the workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

# Requests and latency in one histogram: its _count is the number of requests per route,
# method and status, so each request pays for one observation (~4 us) instead of a counter
# as well (~2 us more, measured with python -m bench.inprocess --metrics).
REQUESTS = Histogram(
    "tessera_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, per route (the route's path template,"
    " not the path as sent), method and status; _count is the number of requests.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
TOKENS = Counter("tessera_tokens_issued", "Tokens issued, per grant type.", ["grant_type"], registry=REGISTRY)
ERRORS = Counter("tessera_oauth_errors", "OAuth errors answered, per error code.", ["error"], registry=REGISTRY)
THROTTLED = Counter(
    "tessera_throttled_attempts", "Attempts refused by a throttle (429), per throttle.", ["kind"], registry=REGISTRY
)

_enabled = False


def enable() -> None:
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


def token_issued(grant_type: str) -> None:
    if _enabled:
        TOKENS.labels(grant_type).inc()


def oauth_error(code: str) -> None:
    if _enabled:
        ERRORS.labels(code).inc()


def throttled(kind: str) -> None:
    """An attempt refused by the throttle `kind` (a fixed name such as "sign_in")."""
    if _enabled:
        THROTTLED.labels(kind).inc()


class PoolUse(Protocol):
    """What the database reports of its connections (storage's PostgresDatabase and
    SQLiteDatabase): calls waiting for or holding a connection, and how many connections
    serve them (SQLite: its one writer)."""

    def usage(self) -> tuple[int, int]: ...


class _DatabaseCollector(Collector):
    def __init__(self, database: PoolUse) -> None:
        self._database = database

    def collect(self) -> Iterator[Metric]:
        in_flight, size = self._database.usage()
        yield GaugeMetricFamily(
            "tessera_database_calls_in_flight",
            "Database calls waiting for or holding a connection (SQLite: writes queued or committing).",
            value=in_flight,
        )
        yield GaugeMetricFamily(
            "tessera_database_connections",
            "Connections that serve database calls (SQLite: the one writer).",
            value=size,
        )


_watched: list[_DatabaseCollector] = []


def watch_database(database: PoolUse) -> None:
    """Report `database`'s pool use at each scrape (the latest one watched)."""
    for collector in _watched:
        REGISTRY.unregister(collector)
    _watched[:] = [_DatabaseCollector(database)]
    REGISTRY.register(_watched[0])


def exposition() -> bytes:
    """The Prometheus text format of every metric (summed over the workers when
    PROMETHEUS_MULTIPROC_DIR is set; the pool gauges are then this worker's)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        for collector in _watched:
            combined.register(collector)
        return generate_latest(combined)
    return generate_latest(REGISTRY)
