"""What `tessera serve` checks and enforces beyond the application's Settings: the limits
each connection is held to before a request reaches the application (ServerSettings,
docs/reliability.md), and the secret key a public host needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tessera.database_setting import GENERATE_HINT, missing_secret_key
from tessera.settings import MIN_SECRET_KEY_LENGTH, SettingsError, base_domain_of, int_setting

# Off localhost, a TESSERA_SECRET_KEY of fewer different characters is refused as weak.
MIN_SECRET_KEY_DISTINCT = 8


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


def load_server_settings(env: Mapping[str, str] | None = None) -> ServerSettings:
    env = os.environ if env is None else env
    return ServerSettings(
        max_header_bytes=int_setting(env, "TESSERA_MAX_HEADER_BYTES", 16 * 1024, 1024, "bytes"),
        max_headers=int_setting(env, "TESSERA_MAX_HEADERS", 100, 10, "header fields"),
        read_timeout=int_setting(env, "TESSERA_READ_TIMEOUT", 10, 1, "seconds"),
        keep_alive_timeout=int_setting(env, "TESSERA_KEEP_ALIVE_TIMEOUT", 5, 1, "seconds"),
        max_connections=int_setting(env, "TESSERA_MAX_CONNECTIONS", 1024, 0, "connections"),
    )


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


def check_serving_secret_key(env: Mapping[str, str] | None = None, database_url: str | None = None) -> None:
    """`tessera serve` off localhost: TESSERA_SECRET_KEY must be set and strong (a key kept
    beside a SQLite file, or a weak one, would let sessions and CSRF tokens be forged on a
    public host). On localhost the generated key is fine. `database_url`: the database
    served, whose key file, if any, the message for a missing key names."""
    env = os.environ if env is None else env
    base_domain = base_domain_of(env)
    if base_domain == "localhost":
        return
    given = env.get("TESSERA_SECRET_KEY") or ""
    if not given:
        raise SettingsError(missing_secret_key(base_domain, database_url))
    problem = _weakness(given)
    if problem is not None:
        raise SettingsError(
            f"TESSERA_SECRET_KEY {problem}: serving {base_domain} needs a random key of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters; {GENERATE_HINT}"
        )
