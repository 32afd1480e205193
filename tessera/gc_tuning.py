"""Garbage-collector settings for a serving process.

Measured (docs/benchmarks.md): with CPython's defaults a token server at ~6,500 requests/s
ran a full (generation 2) collection every ~0.3 s, each walking the whole heap of
SQLAlchemy, joserfc and Jinja2 objects for ~35 ms: that pause was the p99. After start-up
the heap is frozen (gc.freeze: the collector never walks those objects again), and
generation 0 is collected less often. Reference counting still frees almost everything a
request allocates; the collector only has cycles to find.
"""

from __future__ import annotations

import gc

THRESHOLDS = (GEN0, GEN1, GEN2) = (50_000, 20, 100)


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0, GEN1, GEN2)
