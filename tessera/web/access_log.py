"""The access log: host, method, path, status and time; the query string only at DEBUG, and
then with every secret's value redacted.

Query strings carry codes, id_token_hint and (refused, but still sent) access tokens;
INTERFACE.md section 5 forbids any issued secret in a log line. At INFO the path alone is
logged. At DEBUG the query string helps, so it is written with the values of secret
parameters replaced by `[redacted]`. uvicorn's own access log is switched off by
`tessera serve`; a deployment that turns it on (or runs uvicorn with its default logging)
gets the same redaction through `RedactSecrets`, attached to the `uvicorn.access` logger
by the ASGI factory (tessera/asgi.py).
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tessera.access")

REDACTED = "[redacted]"
# RFC 6749, 6750, 7009, 7662, 8628, OIDC Core and RP-Initiated Logout names whose value is
# a credential, or lets one be obtained. Any name ending in "token" or "secret" counts too.
# par_flow carries a pushed request through sign-in (protocol/pushed_authorization.py).
SECRET_PARAMETERS = frozenset(
    {"code", "device_code", "user_code", "password", "assertion", "client_assertion", "id_token_hint", "par_flow"}
)
# A query parameter: after "?", "&" or ";", a name, "=", a value up to the next separator
# (a space or a quote ends it too, so that it also works inside a formatted log line).
_PARAMETER = re.compile(r"([?&;])([^=&;?#\s\"']+)=([^&;#\s\"']*)")


def _is_secret(name: str) -> bool:
    plain = unquote_plus(name).strip().lower()
    return plain in SECRET_PARAMETERS or plain.endswith(("token", "secret"))


def _redact_match(match: re.Match[str]) -> str:
    separator, name, value = match.groups()
    if value and _is_secret(name):
        return f"{separator}{name}={REDACTED}"
    if "%3D" in value.upper():
        # A URL inside a parameter (the login page's return_to): its own query counts too.
        inner = unquote_plus(value)
        redacted = redact(inner)
        if redacted != inner:
            return f"{separator}{name}={quote(redacted, safe='/:[]')}"
    return match.group(0)


def redact(text: str) -> str:
    """`text` with the value of every secret query parameter in it replaced."""
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redact_match, text)


class RedactSecrets(logging.Filter):
    """Redacts secret query values in a record's message and arguments, keeping the
    arguments' shape (uvicorn's access formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact_uvicorn_access_log() -> None:
    """Attach RedactSecrets to uvicorn's access logger, once per process."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


def _target(scope: Scope) -> str:
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if query and log.isEnabledFor(logging.DEBUG):
        return redact(f"{path}?{query.decode('latin-1')}")
    return path


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember_status)
        finally:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "-")
            log.info(
                '%s "%s %s" %d %.1fms',
                host,
                scope["method"],
                _target(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )
