"""Numeric ids as the database holds them: 64-bit signed integers (BIGINT on PostgreSQL,
INTEGER on SQLite). An id from outside (a JSON body's number can be any size) that does not
fit names no row; asking the database anyway fails in the driver (OverflowError on SQLite,
NumericValueOutOfRange on PostgreSQL) instead of finding nothing."""

from __future__ import annotations

SMALLEST_ID = -(2**63)
LARGEST_ID = 2**63 - 1


def storable(identifier: int) -> bool:
    return SMALLEST_ID <= identifier <= LARGEST_ID
