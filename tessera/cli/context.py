"""What every command shares: settings, a database opened for the command, error reporting.

Domain mistakes print one line on stderr and exit 2 (INTERFACE.md section 1); an
unreachable database prints one line and exits 1. Never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click
import orjson

from tessera.cli import where
from tessera.key_cipher import WrongSecretKey
from tessera.management.errors import ManagementError
from tessera.settings import Settings, SettingsError, load_settings
from tessera.storage import migrate
from tessera.storage.database import open_database
from tessera.storage.errors import StorageError
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin

T = TypeVar("T")

# Seconds a command's database call may wait (a lock, a busy server) before it gives up
# with exit status 1. TESSERA_DATABASE_TIMEOUT is for requests, which must answer fast; an
# operator's command had better wait out a briefly locked database (SQLite retried ~40 s
# before that setting existed, PostgreSQL had no bound), yet never hang for good.
CLI_DATABASE_TIMEOUT = 60.0


# The database the running command works on, as shown to users (cli/where.py), once its
# checks passed. The contract allows a failing command one line on stderr, so a failure
# names the database inside that line (fail), and a success names it in a line of its own
# at the end (say_database, from the group's result callback in main.py).
_database_in_use: str | None = None


@dataclass
class CliState:
    database_url: str | None

    def settings(self, may_create: bool = False) -> Settings:
        """The command's settings. Unless `may_create` (cli/where.py names those commands),
        a missing SQLite file or a database without Tessera's schema stops the command with
        where it looked and what to do instead."""
        global _database_in_use
        try:
            url = where.chosen_url(self.database_url, os.environ)
        except SettingsError as problem:
            fail(str(problem))
        missing = where.sqlite_file_missing(url)
        if missing and not may_create:
            fail(where.missing_sqlite_problem(url))
        try:
            settings = load_settings(database_url=self.database_url)
        except SettingsError as problem:
            fail(str(problem))
        if not may_create:
            try:
                migrated = migrate.has_schema(url)
            except StorageError as error:
                _database_problem(error, where.display_url(url))
            if not migrated:
                fail(where.unmigrated_problem(url))
        _database_in_use = where.database_line(url, creating=missing)
        return settings


def say_database() -> None:
    """One line on stderr naming the database the command used: after it succeeded, or as
    a server starts (serve, demo). Said once."""
    global _database_in_use
    if _database_in_use is not None:
        click.echo(f"tessera: {_database_in_use}", err=True)
        _database_in_use = None


def fail(message: str, code: int = 2) -> NoReturn:
    where_ = f" ({_database_in_use})" if _database_in_use is not None else ""
    click.echo(f"tessera: {message}{where_}", err=True)
    sys.exit(code)


def _database_problem(error: Exception, database: str | None = None) -> NoReturn:
    text = str(error).strip()
    first_line = text.splitlines()[0] if text else type(error).__name__
    named = f" {database}" if database else ""
    fail(f"the database{named} could not be used: {first_line}", code=1)


def migrate_schema(settings: Settings) -> None:
    try:
        migrate.upgrade(settings.database_url)
    except (StorageError, OSError) as error:
        _database_problem(error)


def require_current_schema(settings: Settings) -> None:
    try:
        migrate.require_current(settings.database_url)
    except (StorageError, OSError) as error:
        _database_problem(error)


def run(settings: Settings, action: Callable[[Stores], Awaitable[T]]) -> T:
    """Migrate, open the database, run one async action against the stores, close."""
    migrate_schema(settings)
    return on_stores(settings, action)


def on_stores(settings: Settings, action: Callable[[Stores], Awaitable[T]]) -> T:
    """Open the database as it is, run one async action against the stores, close."""

    async def main() -> T:
        db = open_database(settings.database_url, max(settings.database_timeout, CLI_DATABASE_TIMEOUT))
        try:
            return await action(Stores.over(db))
        finally:
            await db.aclose()

    try:
        return asyncio.run(main())
    except (ManagementError, WrongSecretKey) as problem:
        fail(str(problem))
    except UnicodeError:
        # Arguments that are not valid UTF-8 (the shell passed raw bytes) cannot be stored.
        fail("arguments must be valid UTF-8 text; check the characters in names, emails and URIs")
    except (StorageError, OSError) as error:
        _database_problem(error)


def emit_json(key: str, value: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Exactly one JSON object on stdout, wrapped as the API wraps it: {"client": {...}}."""
    click.echo(orjson.dumps({key: value}, option=orjson.OPT_INDENT_2).decode())


def account_origin(settings: Settings, subdomain: str) -> str:
    """The account's issuer, e.g. http://acme.localhost: the base of the URLs in --json output."""
    return origin(settings.scheme, account_host(subdomain, settings.base_domain))


def addressed(positional: str | None, option: str | None, flag: str) -> str:
    """The record a command names, given as an argument or as its option (not both)."""
    if positional and option and positional != option:
        raise click.UsageError(f"name one record: {positional!r} and {flag} {option!r} differ")
    value = option or positional
    if not value:
        raise click.UsageError(f"missing {flag}: say which record, e.g. {flag} VALUE")
    return value
