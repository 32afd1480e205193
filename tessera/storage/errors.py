"""Errors storage raises for the layers above to explain.

Nothing outside tessera/storage imports SQLAlchemy or a database driver (scripts/
check-boundaries), so the database's own exceptions stop here: the runners of
sqlite_writer.py and postgres_loop.py, and migrate.py, hand every database error through
`DatabaseErrors.translate`, and the callers catch these classes instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import exc


class Duplicate(Exception):
    """A unique value is taken; `field` names which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class StorageError(Exception):
    """The database failed a storage call; `str()` is the database's own first line."""


class StorageUnavailable(StorageError):
    """The database could not be reached or could not commit; the caller may retry."""


class StorageFailed(StorageError):
    """The database refused a statement for another reason than being unavailable (a value
    the schema cannot hold, a bug); retrying will not help."""


def _words(error: BaseException) -> str:
    detail = getattr(error, "orig", None) or error
    text = str(detail).strip()
    return text.splitlines()[0] if text else type(detail).__name__


# SQLSTATE classes that mean "not now" rather than "not this statement": connection
# exceptions (08), a rollback the server chose (40: serialization failure, deadlock),
# insufficient resources (53), program limits (54), a lock not available (55), operator
# intervention (57: shutdown, cancelled by statement_timeout) and system errors (58). The
# same classes psycopg raises as OperationalError; asyncpg has no such grouping. Also a
# login the server refused (28) and a database that does not exist (3D: dropped, or not yet
# created): the operator's to mend, and until then every request is "not now", not a bug.
_UNAVAILABLE_STATES = ("08", "28", "3D", "40", "53", "54", "55", "57", "58")


def chain(error: BaseException, limit: int = 6) -> Iterator[BaseException]:
    """The error, the driver's error SQLAlchemy wraps in it (`orig`), and the exceptions it
    was raised from, outermost first; at most `limit` of them."""
    seen: BaseException | None = error
    for _ in range(limit):
        if seen is None:
            return
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__


def sqlstates(error: BaseException) -> list[str]:
    """The SQLSTATEs found along the error's chain, outermost first: asyncpg reports a
    session the server ended mid-statement as "connection does not exist" (08003) raised
    from the server's own answer (57P01, an administrator's shutdown)."""
    found: list[str] = []
    for seen in chain(error):
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state and state not in found:
            found.append(state)
    return found


def sqlstate(error: BaseException) -> str:
    """The outermost SQLSTATE of the error (sqlstates); "" when there is none (the
    connection failed before the server answered, or the error is the client's own)."""
    states = sqlstates(error)
    return states[0] if states else ""


class DatabaseErrors:
    """Sorts the exceptions of one engine's driver (PEP 249 names them alike in every
    driver: OperationalError, InterfaceError, Error) and SQLAlchemy's wrappers of them.
    Statements run on the driver's connection (compiled.py) raise the driver's own
    classes: `unavailable` and `failed` name those of a driver that is not PEP 249's
    (asyncpg), whose server errors are sorted by SQLSTATE."""

    def __init__(
        self,
        dbapi: Any,
        unavailable: tuple[type[BaseException], ...] = (),
        failed: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._unavailable: tuple[type[BaseException], ...] = (
            exc.OperationalError,
            exc.InterfaceError,
            dbapi.OperationalError,
            dbapi.InterfaceError,
            *unavailable,
        )
        self._failed: tuple[type[BaseException], ...] = (exc.SQLAlchemyError, dbapi.Error, *failed)

    def translate(self, error: Exception) -> Exception:
        """Storage's own exception for a database error, with the error as its cause; any
        other exception (Duplicate, a caller's own) comes back unchanged."""
        translated: Exception
        if not isinstance(error, self._unavailable + self._failed):
            return error
        state = sqlstate(error)
        if state[:2] in _UNAVAILABLE_STATES or (not state and isinstance(error, self._unavailable)):
            translated = StorageUnavailable(_words(error))
        else:
            translated = StorageFailed(_words(error))
        translated.__cause__ = error
        return translated


class LastAdmin(Exception):
    """The change would leave the account without an active admin."""
