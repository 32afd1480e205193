"""Which database a command works on, said out loud, and never a new one by accident.

Every command names its database on stderr (stdout stays the command's output, so that
`--json` still prints exactly one object). Only the commands that set up a database may
create one: `db upgrade`, `serve`, `demo`, and `accounts create` (the first step of the
documented quick start). Any other command pointed at a missing SQLite file, or at a
database whose schema was never created, stops and says where it looked and what to do:
a client created in a database that the server never reads is a silent, baffling mistake.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tessera.settings import DEFAULT_DATABASE_URL, normalise_database_url, sqlite_path

# Commands that may create a database; named in the messages below.
CREATORS = "`tessera db upgrade`, `serve`, `demo` and `accounts create`"


def chosen_url(given: str | None, env: Mapping[str, str]) -> str:
    """The database URL the command will use, normalised (raises SettingsError)."""
    return normalise_database_url(given or env.get("TESSERA_DATABASE_URL") or DEFAULT_DATABASE_URL)


def display_url(url: str) -> str:
    """The URL as a user writes it: an SQLite path made absolute (so that it says which
    folder), a PostgreSQL URL without its driver name and with any password masked."""
    if url.startswith("sqlite:///"):
        return f"sqlite:///{absolute_path(url)}"
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    if parts.password is None:
        return urlunsplit(parts)
    user_and_password, host = parts.netloc.rsplit("@", 1)
    user = user_and_password.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def absolute_path(url: str) -> Path:
    return Path(os.path.abspath(sqlite_path(url)))


def sqlite_file_missing(url: str) -> bool:
    return url.startswith("sqlite:///") and not absolute_path(url).exists()


def _how_to_point(url: str) -> str:
    upgrade = f"tessera --database-url {shlex.quote(display_url(url))} db upgrade"
    return (
        "point to your database with --database-url URL (before the command) or TESSERA_DATABASE_URL, "
        "or run the command from the folder that holds tessera.db; "
        f"to start a new, empty database at that path, run: {upgrade}"
    )


def missing_sqlite_problem(url: str) -> str:
    """Why a command that may not create a database stops before a missing SQLite file."""
    path = absolute_path(url)
    if not path.parent.is_dir():
        where = f"the folder {path.parent} does not exist, so there is no database at {path}"
    else:
        where = f"there is no database at {path}"
    return f"{where}; only {CREATORS} create one: {_how_to_point(url)}"


def unmigrated_problem(url: str) -> str:
    return (
        f"the database {display_url(url)} has no Tessera schema (it is empty or belongs to something else); "
        f"if it is meant for Tessera, create the schema with: "
        f"tessera --database-url {shlex.quote(display_url(url))} db upgrade"
    )


def database_line(url: str, creating: bool) -> str:
    new = " (new)" if creating else ""
    return f"database {display_url(url)}{new}"


def demo_lines(url: str, subdomain: str) -> str:
    """What `tessera demo` prints first: its database, and a command line that works on it
    from any folder (a PostgreSQL password stays masked: fill it in)."""
    shown = display_url(url)
    return (
        f"\nDatabase      {shown}\n"
        f"CLI           TESSERA_DATABASE_URL={shlex.quote(shown)} tessera clients list --account {subdomain}"
    )
