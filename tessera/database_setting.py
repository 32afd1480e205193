"""The database a node serves from (TESSERA_DATABASE_URL) and the secret key that goes
with it (TESSERA_SECRET_KEY, or for SQLite a key file kept beside the database): read and
checked at start-up, so that a mistake is one line, not a driver's traceback later."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from tessera.setting_errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite:///./tessera.db"
MIN_SECRET_KEY_LENGTH = 32


def normalise_database_url(url: str) -> str:
    """Map the user-facing URL forms onto the SQLAlchemy drivers Tessera ships with."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return _checked_postgresql("postgresql+psycopg://" + url.split("://", 1)[1])
    if url.startswith("postgresql+psycopg://"):
        return _checked_postgresql(url)
    if url.startswith("sqlite:///"):
        if not Path(url[len("sqlite:///") :]).name or url.endswith("/"):
            raise SettingsError(
                f"the database URL {url!r} names no file: use sqlite:///PATH, e.g. sqlite:///./tessera.db"
            )
        return url
    # "the database URL": it may come from --database-url as well as TESSERA_DATABASE_URL.
    raise SettingsError(
        f"the database URL {_without_password(url)!r} is not supported: "
        "use sqlite:///PATH or postgresql://user@host:port/database"
    )


def _checked_postgresql(url: str) -> str:
    """A PostgreSQL URL whose host and port can be read: refused here in one line, not
    later by the driver with a traceback."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it is the check)
    except ValueError as error:
        raise SettingsError(
            f"the database URL {_without_password(url)!r} cannot be read ({error}): "
            "use postgresql://user@host:port/database"
        ) from None
    return url


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    return f"{scheme.replace('+psycopg', '')}://{credentials}{at}{host}"


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def missing_secret_key(base_domain: str, url: str | None) -> str:
    """What to do when TESSERA_SECRET_KEY is not set off localhost, where no key is
    generated: the server and every command need the same key. An SQLite database that
    already has a key file beside it (made on localhost, or by an earlier version) keeps
    its signing keys sealed under that key, so the message names the file to take it from."""
    message = (
        f"TESSERA_SECRET_KEY is not set: serving {base_domain} needs a random key of at least "
        f"{MIN_SECRET_KEY_LENGTH} characters, the same for the server and every tessera command; "
    )
    if url is not None and url.startswith("sqlite"):
        key_path = _key_path(sqlite_path(url))
        if key_path.is_file():
            return message + (
                f"if this database was used without TESSERA_SECRET_KEY, its signing keys are sealed with the key "
                f"in {key_path.absolute()}: set TESSERA_SECRET_KEY to that file's content"
            )
    return message + GENERATE_HINT


def _key_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".secret_key")


def secret_key_for(url: str, given: str | None, base_domain: str = "localhost") -> str:
    """The key given, or for SQLite on localhost the one kept beside the database (made on
    first use). Off localhost a key is never made: the README's promise, and the server
    refuses to serve a public host without TESSERA_SECRET_KEY, so a key a command made
    there would seal signing keys that the server's own key could not open."""
    if given:
        if len(given) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"TESSERA_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                f"(it has {len(given)}); {GENERATE_HINT}"
            )
        return given
    if not url.startswith("sqlite"):
        raise SettingsError(
            "TESSERA_SECRET_KEY is required with PostgreSQL, and must be the same on every node "
            "(at least 32 characters)"
        )
    if base_domain != "localhost":
        raise SettingsError(missing_secret_key(base_domain, url))
    return _stored_secret_key(sqlite_path(url))


def _stored_secret_key(db_path: Path) -> str:
    """The key generated once and kept beside the SQLite database (mode 0600). Only a new
    database gets a new key: the key encrypts the signing keys stored in the database, and
    a database that lost its key file needs that key back, not another."""
    key_path = _key_path(db_path)
    try:
        if key_path.is_file():
            return key_path.read_text().strip()
        if key_path.exists():
            raise SettingsError(f"{key_path} should be the database's secret key file, but is not a file")
        if db_path.is_file() and db_path.stat().st_size > 0:
            raise SettingsError(
                f"the database {db_path} has no secret key file beside it ({key_path.name}): restore that file, "
                "or set TESSERA_SECRET_KEY to the key it held (a new key could not read the stored signing keys)"
            )
        key_path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key
    except OSError as error:
        raise SettingsError(f"the secret key file {key_path} could not be read or written: {error.strerror}") from None
