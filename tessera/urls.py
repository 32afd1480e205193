"""Absolute URLs of accounts and the platform (INTERFACE.md section 2)."""

from __future__ import annotations

SERVE_PORT = 8000  # `tessera serve --port`'s default (INTERFACE.md section 1)


def origin(scheme: str, host: str) -> str:
    """`host` may carry a port; the issuer has no trailing slash (RFC 8414 section 2)."""
    return f"{scheme}://{host}"


def account_host(subdomain: str, base_domain: str, port: int | None = None) -> str:
    host = f"{subdomain}.{base_domain}"
    return host if port is None else f"{host}:{port}"
