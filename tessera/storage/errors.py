"""Errors storage raises for the layers above to explain.

Nothing outside tessera/storage imports SQLAlchemy or a database driver (scripts/
check-boundaries), so the database's own exceptions stop here: the runners of
sqlite_writer.py and postgres_loop.py, and migrate.py, hand every database error through
`DatabaseErrors.translate`, and the callers catch these classes instead.
"""

from __future__ import annotations

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


class DatabaseErrors:
    """Sorts the exceptions of one engine's driver (PEP 249 names them alike in every
    driver: OperationalError, InterfaceError, Error) and SQLAlchemy's wrappers of them.
    Statements run on the driver's cursor (compiled.py) raise the driver's own classes."""

    def __init__(self, dbapi: Any) -> None:
        self._unavailable: tuple[type[BaseException], ...] = (
            exc.OperationalError,
            exc.InterfaceError,
            dbapi.OperationalError,
            dbapi.InterfaceError,
        )
        self._failed: tuple[type[BaseException], ...] = (exc.SQLAlchemyError, dbapi.Error)

    def translate(self, error: Exception) -> Exception:
        """Storage's own exception for a database error, with the error as its cause; any
        other exception (Duplicate, a caller's own) comes back unchanged."""
        translated: Exception
        if isinstance(error, self._unavailable):
            translated = StorageUnavailable(_words(error))
        elif isinstance(error, self._failed):
            translated = StorageFailed(_words(error))
        else:
            return error
        translated.__cause__ = error
        return translated


class LastAdmin(Exception):
    """The change would leave the account without an active admin."""
