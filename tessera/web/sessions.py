"""Browser sessions on an account host (INTERFACE.md sections 2 and 5).

The cookie is host-only (no Domain attribute), so signing in to acme does not sign you
in to beta. It holds a 256-bit secret; the store holds its SHA-256 digest. Signing in
always starts a new session and deletes the old one (session fixation, OWASP ASVS 3.2.1);
signing out deletes the session on the server.

A session ends `session_lifetime` seconds after sign-in however it is used (the absolute
timeout), or after `session_idle_timeout` seconds unused (OWASP ASVS 3.3.1-3.3.2). The last
use is written at most once per TOUCH_INTERVAL per session, so a browser calling the API
does not turn every read into a write; the idle timeout is therefore exact to a minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tessera import paths
from tessera.model import Account, AuditEntry, Session
from tessera.protocol import secrets
from tessera.web import csrf
from tessera.web.services import Services

COOKIE = "tessera_session"
LOGIN_COOKIE = "tessera_login"
TOUCH_INTERVAL = 60  # seconds between two writes of a session's last use


@dataclass(frozen=True, slots=True)
class CurrentSession:
    session: Session
    cookie: str

    @property
    def user_id(self) -> int:
        return self.session.user_id


async def current(request: Request, services: Services, account: Account) -> CurrentSession | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    now = services.now()
    store = services.stores.sessions
    session = await store.find(secrets.digest(cookie), now, now - services.settings.session_idle_timeout)
    if session is None or session.account_id != account.id:
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        await store.touch(session.id, now, now - TOUCH_INTERVAL)
    return CurrentSession(session=session, cookie=cookie)


def _secure(services: Services) -> bool:
    return services.settings.scheme == "https"


async def start(request: Request, response: Response, services: Services, account: Account, user_id: int) -> None:
    old = request.cookies.get(COOKIE)
    cookie = secrets.new_secret("")
    now = services.now()
    await services.stores.sessions.start(
        secrets.digest(old) if old else None,
        secrets.digest(cookie),
        account.id,
        user_id,
        now,
        now + services.settings.session_lifetime,
    )
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=services.settings.session_lifetime,
        httponly=True,
        samesite="lax",
        secure=_secure(services),
        path="/",
    )


async def end(request: Request, response: Response, services: Services, audit: AuditEntry | None = None) -> None:
    """Sign out; `audit` is the sign-out's entry, written with the session's end."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        await services.stores.sessions.end(secrets.digest(cookie), audit)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(services))


def authenticity_token(services: Services, current_session: CurrentSession) -> str:
    return csrf.token(services.settings.secret_key, "session", current_session.cookie)


def valid_authenticity_token(services: Services, current_session: CurrentSession, presented: str | None) -> bool:
    return csrf.valid(services.settings.secret_key, "session", current_session.cookie, presented)


def login_form_token(request: Request, services: Services) -> tuple[str, str | None]:
    """The login form's CSRF token, and the cookie to set for it when the browser has none yet."""
    cookie = request.cookies.get(LOGIN_COOKIE)
    new_cookie = None
    if not cookie:
        cookie = new_cookie = secrets.new_secret("")
    return csrf.token(services.settings.secret_key, "login", cookie), new_cookie


def set_login_cookie(response: Response, services: Services, cookie: str | None) -> None:
    if cookie is not None:
        response.set_cookie(
            LOGIN_COOKIE, cookie, httponly=True, samesite="lax", secure=_secure(services), path=paths.ACCESS
        )


def valid_login_form_token(request: Request, services: Services, presented: str | None) -> bool:
    return csrf.valid(services.settings.secret_key, "login", request.cookies.get(LOGIN_COOKIE), presented)
