"""Settings: read once from the TESSERA_* environment (INTERFACE.md section 1), then passed down.

Nothing reads the environment after start-up; tests build Settings directly.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./tessera.db"
MIN_SECRET_KEY_LENGTH = 32
# Off localhost, a TESSERA_SECRET_KEY of fewer different characters is refused as weak.
MIN_SECRET_KEY_DISTINCT = 8


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    base_domain: str = "localhost"
    scheme: str = "http"
    secret_key: str = field(default="", repr=False)
    authorization_code_lifetime: int = 300
    refresh_reuse_grace: int = 10
    # Failed sign-ins allowed per account and email inside the window before further
    # attempts are refused until the window has passed (docs/security.md).
    login_max_failures: int = 10
    login_failure_window: int = 900
    session_lifetime: int = 14 * 24 * 3600
    # Seconds between automatic purges of dead rows in `serve`; 0 turns them off.
    purge_interval: int = 600
    # Days an audit-log entry is kept before the purge removes it (INTERFACE.md section 6).
    audit_log_retention_days: int = 365
    access_log: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def normalise_database_url(url: str) -> str:
    """Map the user-facing URL forms onto the SQLAlchemy drivers Tessera ships with."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg://") or url.startswith("sqlite:///"):
        return url
    raise SettingsError(
        f"TESSERA_DATABASE_URL {url!r} is not supported: use sqlite:///PATH or postgresql://user@host:port/database"
    )


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def _secret_key_for(url: str, given: str | None) -> str:
    if given:
        if len(given) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"TESSERA_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                f"(it has {len(given)}); generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return given
    if not url.startswith("sqlite"):
        raise SettingsError(
            "TESSERA_SECRET_KEY is required with PostgreSQL, and must be the same on every node "
            "(at least 32 characters)"
        )
    return _stored_secret_key(sqlite_path(url))


def _stored_secret_key(db_path: Path) -> str:
    """The key generated once and kept beside the SQLite database (mode 0600)."""
    key_path = db_path.with_name(db_path.name + ".secret_key")
    if key_path.exists():
        return key_path.read_text().strip()
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _base_domain(env: Mapping[str, str]) -> str:
    return (env.get("TESSERA_BASE_DOMAIN") or "localhost").strip().lower().rstrip(".")


def _weakness(key: str) -> str | None:
    """Why `key` is too weak to sign sessions and encrypt keys on a public host, or None.
    A key of a few distinct characters, or one short pattern repeated, is guessable however
    long it is."""
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters (it has {len(key)})"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT:
        return f"has fewer than {MIN_SECRET_KEY_DISTINCT} different characters"
    period = next(p for p in range(1, len(key) + 1) if key == (key[:p] * (len(key) // p + 1))[: len(key)])
    if period <= len(key) // 2:
        return f"repeats a pattern of {period} characters"
    return None


def check_serving_secret_key(env: Mapping[str, str] | None = None) -> None:
    """`tessera serve` off localhost: TESSERA_SECRET_KEY must be set and strong (a key kept
    beside a SQLite file, or a weak one, would let sessions and CSRF tokens be forged on a
    public host). On localhost the generated key is fine."""
    env = os.environ if env is None else env
    base_domain = _base_domain(env)
    if base_domain == "localhost":
        return
    given = env.get("TESSERA_SECRET_KEY") or ""
    problem = "is not set" if not given else _weakness(given)
    if problem is not None:
        raise SettingsError(
            f"TESSERA_SECRET_KEY {problem}: serving {base_domain} needs a random key of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def _int_setting(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def load_settings(env: Mapping[str, str] | None = None, database_url: str | None = None) -> Settings:
    env = os.environ if env is None else env
    url = normalise_database_url(database_url or env.get("TESSERA_DATABASE_URL") or DEFAULT_DATABASE_URL)
    base_domain = _base_domain(env)
    default_scheme = "http" if base_domain == "localhost" else "https"
    scheme = (env.get("TESSERA_PUBLIC_URL_SCHEME") or default_scheme).strip().lower()
    if scheme not in ("http", "https"):
        raise SettingsError(f"TESSERA_PUBLIC_URL_SCHEME must be http or https, not {scheme!r}")
    return Settings(
        database_url=url,
        base_domain=base_domain,
        scheme=scheme,
        secret_key=_secret_key_for(url, env.get("TESSERA_SECRET_KEY")),
        authorization_code_lifetime=_int_setting(env, "TESSERA_AUTHORIZATION_CODE_LIFETIME", 300, 1),
        refresh_reuse_grace=_int_setting(env, "TESSERA_REFRESH_REUSE_GRACE", 10, 0),
        access_log=env.get("TESSERA_ACCESS_LOG", "1") not in ("0", "false", "no"),
        purge_interval=_int_setting(env, "TESSERA_PURGE_INTERVAL", 600, 0),
        audit_log_retention_days=_int_setting(env, "TESSERA_AUDIT_LOG_RETENTION_DAYS", 365, 1),
    )


@dataclass(frozen=True)
class ServerSettings:
    """What `tessera serve` enforces on each connection before a request reaches the
    application (docs/reliability.md). Read once in `serve` and handed to uvicorn."""

    # The request line and header fields together, in bytes: more is 431 (414 for the URL alone).
    max_header_bytes: int = 16 * 1024
    # Header fields per request: more is 431.
    max_headers: int = 100
    # Seconds in which a request (line, headers and body) must arrive, counted from its
    # first byte, or from the connection's opening for the first request: else 408 and close.
    read_timeout: int = 10
    # Seconds an idle keep-alive connection is kept between requests.
    keep_alive_timeout: int = 5
    # Connections (and requests in progress) per worker beyond which requests get 503; 0: no limit.
    max_connections: int = 1024


def _whole_number(env: Mapping[str, str], name: str, default: int, minimum: int, unit: str) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of {unit}, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def load_server_settings(env: Mapping[str, str] | None = None) -> ServerSettings:
    env = os.environ if env is None else env
    return ServerSettings(
        max_header_bytes=_whole_number(env, "TESSERA_MAX_HEADER_BYTES", 16 * 1024, 1024, "bytes"),
        max_headers=_whole_number(env, "TESSERA_MAX_HEADERS", 100, 10, "header fields"),
        read_timeout=_whole_number(env, "TESSERA_READ_TIMEOUT", 10, 1, "seconds"),
        keep_alive_timeout=_whole_number(env, "TESSERA_KEEP_ALIVE_TIMEOUT", 5, 1, "seconds"),
        max_connections=_whole_number(env, "TESSERA_MAX_CONNECTIONS", 1024, 0, "connections"),
    )
