"""Settings: read once from the TESSERA_* environment (INTERFACE.md section 1), then passed down.

Nothing reads the environment after start-up; tests build Settings directly.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from tessera.database_setting import DEFAULT_DATABASE_URL as DEFAULT_DATABASE_URL
from tessera.database_setting import MIN_SECRET_KEY_LENGTH as MIN_SECRET_KEY_LENGTH
from tessera.database_setting import normalise_database_url as normalise_database_url
from tessera.database_setting import secret_key_for
from tessera.database_setting import sqlite_path as sqlite_path
from tessera.setting_errors import SettingsError as SettingsError


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    base_domain: str = "localhost"
    scheme: str = "http"
    secret_key: str = field(default="", repr=False)
    authorization_code_lifetime: int = 300
    refresh_reuse_grace: int = 10
    session_lifetime: int = 14 * 24 * 3600
    # Seconds between automatic purges of dead rows in `serve`; 0 turns them off.
    purge_interval: int = 600
    # Days an audit-log entry is kept before the purge removes it (INTERFACE.md section 6).
    audit_log_retention_days: int = 365
    access_log: bool = True
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    # Seconds a database call may take (waiting for a connection, a lock or the server)
    # before the request is answered 503 with Retry-After (docs/reliability.md).
    database_timeout: float = 5.0
    # GET /metrics on the platform host (docs/reliability.md): off unless TESSERA_METRICS=1;
    # from loopback only, unless a bearer token is set here.
    metrics: bool = False
    metrics_token: str = field(default="", repr=False)
    # Seconds a browser session may go unused before it ends (docs/security.md, "Sessions"):
    # a working day, so a browser left signed in overnight signs in again; session_lifetime
    # above stays the absolute limit however active the session is.
    session_idle_timeout: int = 8 * 3600
    # Throttles (docs/reliability.md, "Throttles"; INTERFACE.md section 9). False turns every
    # throttle off, for load tests and suites that fail on purpose from one address.
    throttle: bool = True
    # Seconds a run of failures is remembered after the last one counted.
    throttle_window: int = 900
    # Past a limit, the first wait in seconds; each further failure doubles it, up to the window.
    throttle_backoff: int = 60
    # Failures counted before the waits begin: sign-ins per account and email, and per source
    # address; client authentications per client, and per source address (each per account).
    throttle_sign_in_per_email: int = 10
    throttle_sign_in_per_address: int = 30
    throttle_client_auth_per_client: int = 10
    throttle_client_auth_per_address: int = 30
    # Wrong user codes on the device pages (RFC 8628 section 5.1), per account and signed-in
    # user, and per source address.
    throttle_user_code_per_user: int = 10
    throttle_user_code_per_address: int = 30
    # Open dynamic client registrations (RFC 7591) counted per source address and account
    # before the waits begin: every registration counts, not only failed ones.
    throttle_registration_per_address: int = 20
    # Client ID metadata documents (docs/client-metadata-documents.md): True lets Tessera
    # fetch them from private, loopback and link-local addresses, and over http from
    # loopback. For development and tests only: off, such addresses are refused (SSRF).
    cimd_allow_private: bool = False
    # Seconds one fetch of a metadata document may take in all (DNS, connect, TLS, reading).
    cimd_fetch_timeout: float = 3.0
    # DPoP (RFC 9449 section 8, docs/dpop.md): True makes every DPoP proof carry a server
    # nonce (use_dpop_nonce until it does). Off by default, as at most servers: the iat
    # window and single-use jtis already bound a proof's life.
    dpop_nonce: bool = False
    # Password reset by e-mail (docs/password-reset.md). Without an SMTP host no e-mail is
    # sent and the "forgot your password" page says to ask an admin of the account instead.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "Tessera <tessera@localhost>"
    # Upgrade the connection with STARTTLS before authenticating (port 587 servers want it).
    smtp_starttls: bool = False
    # Seconds one delivery may take in all; it runs off the request path either way.
    smtp_timeout: float = 10.0
    # Seconds a reset link works; it works once.
    password_reset_lifetime: int = 1800
    # Reset e-mails asked for per account and e-mail address, and per source address, before
    # the waits begin: every request counts, whether or not the address has a user.
    throttle_password_reset_per_email: int = 3
    throttle_password_reset_per_address: int = 10

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


_HOST_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def base_domain_of(env: Mapping[str, str]) -> str:
    """TESSERA_BASE_DOMAIN: a host name (DNS labels), under which accounts are subdomains."""
    value = (env.get("TESSERA_BASE_DOMAIN") or "localhost").strip().lower().rstrip(".")
    if not _HOST_NAME.match(value):
        raise SettingsError(
            f"TESSERA_BASE_DOMAIN must be a host name such as example.com (no scheme, port or path), not {value!r}"
        )
    return value


def int_setting(env: Mapping[str, str], name: str, default: int, minimum: int, unit: str = "seconds") -> int:
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


def load_settings(env: Mapping[str, str] | None = None, database_url: str | None = None) -> Settings:
    env = os.environ if env is None else env
    url = normalise_database_url(database_url or env.get("TESSERA_DATABASE_URL") or DEFAULT_DATABASE_URL)
    base_domain = base_domain_of(env)
    default_scheme = "http" if base_domain == "localhost" else "https"
    scheme = (env.get("TESSERA_PUBLIC_URL_SCHEME") or default_scheme).strip().lower()
    if scheme not in ("http", "https"):
        raise SettingsError(f"TESSERA_PUBLIC_URL_SCHEME must be http or https, not {scheme!r}")
    settings = Settings(
        database_url=url,
        base_domain=base_domain,
        scheme=scheme,
        secret_key=secret_key_for(url, env.get("TESSERA_SECRET_KEY"), base_domain),
        authorization_code_lifetime=int_setting(env, "TESSERA_AUTHORIZATION_CODE_LIFETIME", 300, 1),
        refresh_reuse_grace=int_setting(env, "TESSERA_REFRESH_REUSE_GRACE", 10, 0),
        access_log=env.get("TESSERA_ACCESS_LOG", "1") not in ("0", "false", "no"),
        purge_interval=int_setting(env, "TESSERA_PURGE_INTERVAL", 600, 0),
        audit_log_retention_days=int_setting(env, "TESSERA_AUDIT_LOG_RETENTION_DAYS", 365, 1, "days"),
        database_timeout=_seconds_setting(env, "TESSERA_DATABASE_TIMEOUT", 5.0),
        metrics=_flag(env, "TESSERA_METRICS"),
        metrics_token=env.get("TESSERA_METRICS_TOKEN", "").strip(),
        session_lifetime=int_setting(env, "TESSERA_SESSION_LIFETIME", 14 * 24 * 3600, 300),
        session_idle_timeout=int_setting(env, "TESSERA_SESSION_IDLE_TIMEOUT", 8 * 3600, 300),
        throttle=_flag(env, "TESSERA_THROTTLE", default=True),
        throttle_window=int_setting(env, "TESSERA_THROTTLE_WINDOW", 900, 1),
        throttle_backoff=int_setting(env, "TESSERA_THROTTLE_BACKOFF", 60, 1),
        throttle_sign_in_per_email=int_setting(env, "TESSERA_THROTTLE_SIGN_IN_PER_EMAIL", 10, 1, "failures"),
        throttle_sign_in_per_address=int_setting(env, "TESSERA_THROTTLE_SIGN_IN_PER_ADDRESS", 30, 1, "failures"),
        throttle_client_auth_per_client=int_setting(env, "TESSERA_THROTTLE_CLIENT_AUTH_PER_CLIENT", 10, 1, "failures"),
        throttle_client_auth_per_address=int_setting(
            env, "TESSERA_THROTTLE_CLIENT_AUTH_PER_ADDRESS", 30, 1, "failures"
        ),
        throttle_user_code_per_user=int_setting(env, "TESSERA_THROTTLE_USER_CODE_PER_USER", 10, 1, "failures"),
        throttle_user_code_per_address=int_setting(env, "TESSERA_THROTTLE_USER_CODE_PER_ADDRESS", 30, 1, "failures"),
        throttle_registration_per_address=int_setting(
            env, "TESSERA_THROTTLE_REGISTRATION_PER_ADDRESS", 20, 1, "registrations"
        ),
        cimd_allow_private=_flag(env, "TESSERA_CIMD_ALLOW_PRIVATE"),
        dpop_nonce=_flag(env, "TESSERA_DPOP_NONCE"),
        throttle_password_reset_per_email=int_setting(
            env, "TESSERA_THROTTLE_PASSWORD_RESET_PER_EMAIL", 3, 1, "requests"
        ),
        throttle_password_reset_per_address=int_setting(
            env, "TESSERA_THROTTLE_PASSWORD_RESET_PER_ADDRESS", 10, 1, "requests"
        ),
        password_reset_lifetime=int_setting(env, "TESSERA_PASSWORD_RESET_LIFETIME", 1800, 60),
    )
    return _with_smtp(settings, env)


def _with_smtp(settings: Settings, env: Mapping[str, str]) -> Settings:
    """TESSERA_SMTP_*: where reset e-mails go out (docs/password-reset.md)."""
    host = env.get("TESSERA_SMTP_HOST", "").strip()
    starttls = _flag(env, "TESSERA_SMTP_STARTTLS")
    raw_port = env.get("TESSERA_SMTP_PORT", "").strip()
    port = 587 if starttls else 25
    if raw_port:
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise SettingsError(f"TESSERA_SMTP_PORT must be a port number from 1 to 65535, not {raw_port!r}")
        port = int(raw_port)
    sender = env.get("TESSERA_SMTP_FROM", "").strip() or f"Tessera <tessera@{base_domain_of(env)}>"
    if "@" not in sender:
        raise SettingsError(f"TESSERA_SMTP_FROM must be an e-mail address such as no-reply@example.com, not {sender!r}")
    return replace(
        settings,
        smtp_host=host,
        smtp_port=port,
        smtp_username=env.get("TESSERA_SMTP_USERNAME", "").strip(),
        smtp_password=env.get("TESSERA_SMTP_PASSWORD", ""),
        smtp_from=sender,
        smtp_starttls=starttls,
        smtp_timeout=_seconds_setting(env, "TESSERA_SMTP_TIMEOUT", 10.0),
    )


def _seconds_setting(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, such as 5 or 0.5, not {raw!r}") from None
    if not 0.1 <= value <= 600:
        raise SettingsError(f"{name} must be between 0.1 and 600 seconds, not {raw}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """1 or 0 (the usual spellings of either are accepted); unset, the default."""
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 (on) or 0 (off), not {raw!r}")
