"""GET|POST /access/login: INTERFACE.md sections 4 (the login page's return_to) and 5 (CSRF
token, session identifier changes at sign-in); OWASP ASVS 2.2.1 (throttling), 3.2.1
(session fixation), 3.4.2-3.4.3 (HttpOnly, SameSite); RFC 6265 section 4.1.2.3 (host-only
cookies); CWE-601 (open redirect).
"""

from __future__ import annotations

import re

import httpx
import pytest
from argon2 import PasswordHasher, Type

from tessera import passwords
from tessera.app import create_app
from tessera.protocol import secrets
from tessera.settings import Settings
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, World, forms, make_world, sign_in

pytestmark = pytest.mark.anyio

LOGIN = "/access/login"
ME = "/api/v2/users/me"
WRONG = "The email or password is wrong."
_ALERT = re.compile(r'<p class="alert" role="alert">(.*?)</p>', re.S)


def alert(page: httpx.Response) -> str:
    match = _ALERT.search(page.text)
    assert match is not None, page.text
    return match.group(1)


async def login_form(http: httpx.AsyncClient, return_to: str = "/") -> dict[str, str]:
    page = await http.get(LOGIN, params={"return_to": return_to})
    assert page.status_code == 200
    form = forms(page.text)[-1]
    assert form.action == LOGIN
    assert form.method == "post"
    return dict(form.fields)


async def attempt(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    fields = await login_form(http)
    return await http.post(LOGIN, data=dict(fields, email=email, password=password))


def session_cookie(response: httpx.Response) -> str:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith("tessera_session=")]
    return header


async def me_with_cookie(app: object, origin: str, cookie: str) -> httpx.Response:
    """GET /api/v2/users/me from a browser that holds only this session cookie."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=origin) as browser:
        return await browser.get(ME, headers={"Cookie": f"tessera_session={cookie}"})


def browser(app: object, origin: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=origin)  # type: ignore[arg-type]


# -- CSRF (INTERFACE.md section 5) ---------------------------------------------------------


async def test_login_form_carries_a_csrf_token(http: httpx.AsyncClient, world: World) -> None:
    fields = await login_form(http)
    assert len(fields["authenticity_token"]) >= 32


async def test_post_without_authenticity_token_is_refused(http: httpx.AsyncClient, world: World) -> None:
    fields = await login_form(http)
    del fields["authenticity_token"]
    response = await http.post(LOGIN, data=dict(fields, email=world.user.email, password=PASSWORD))
    assert response.status_code == 403
    assert "location" not in response.headers
    assert not any(h.startswith("tessera_session=") for h in response.headers.get_list("set-cookie"))
    assert (await http.get(ME)).status_code == 401


async def test_post_with_a_wrong_authenticity_token_is_refused(http: httpx.AsyncClient, world: World) -> None:
    fields = await login_form(http)
    real = fields["authenticity_token"]
    fields["authenticity_token"] = ("0" if real[0] != "0" else "1") + real[1:]
    response = await http.post(LOGIN, data=dict(fields, email=world.user.email, password=PASSWORD))
    assert response.status_code == 403
    assert (await http.get(ME)).status_code == 401


async def test_token_from_another_browser_is_refused(http: httpx.AsyncClient, world: World, app: object) -> None:
    """Login CSRF: the token binds to a cookie only the browser that loaded the form holds."""
    async with browser(app, world.origin) as attacker:
        attackers = await login_form(attacker)
    await login_form(http)  # the victim's browser has its own login cookie
    response = await http.post(LOGIN, data=dict(attackers, email=world.user.email, password=PASSWORD))
    assert response.status_code == 403
    assert (await http.get(ME)).status_code == 401


async def test_continue_as_without_authenticity_token_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """The select_account page's "Continue as" form is a POST too (INTERFACE.md section 5)."""
    await sign_in(http, world.user.email)
    response = await http.post(LOGIN, data={"action": "continue", "return_to": "/oauth/authorizations/new?x=1"})
    assert response.status_code == 403
    assert "location" not in response.headers


# -- Wrong credentials and throttling ---------------------------------------------------------


async def test_wrong_password_is_401_with_a_clear_message(http: httpx.AsyncClient, world: World) -> None:
    response = await attempt(http, world.user.email, "not the password")
    assert response.status_code == 401
    assert alert(response) == WRONG
    # The form comes back with the email filled in, not the password.
    form = forms(response.text)[-1]
    assert form.fields["email"] == "user@example.com"
    assert form.fields.get("password", "") == ""


async def test_unknown_email_gets_the_same_message(http: httpx.AsyncClient, world: World) -> None:
    """No account enumeration (OWASP ASVS 2.5.x / 3.2): same status, same words."""
    response = await attempt(http, "nobody@example.com", "not the password")
    assert response.status_code == 401
    assert alert(response) == WRONG


async def test_empty_fields_are_400(http: httpx.AsyncClient, world: World) -> None:
    response = await attempt(http, "", "")
    assert response.status_code == 400
    assert alert(response) == "Enter your email and password."


async def fail(http: httpx.AsyncClient, email: str, times: int) -> None:
    for _ in range(times):
        response = await attempt(http, email, "not the password")
        assert response.status_code == 401, response.text


async def test_throttled_after_max_failures_even_with_the_right_password(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    """INTERFACE.md section 9: the 11th attempt within a minute is refused even with the right
    password, with 429 and Retry-After, on a page that says when to try again."""
    assert settings.throttle_sign_in_per_email == 10
    assert settings.throttle_backoff == 60
    await fail(http, world.user.email, settings.throttle_sign_in_per_email)
    refused = await attempt(http, world.user.email, PASSWORD)
    assert refused.status_code == 429
    assert 50 <= int(refused.headers["retry-after"]) <= 60
    assert "too many failed sign-ins from here or for this email; try again in" in alert(refused).lower()
    assert (await http.get(ME)).status_code == 401
    clock.advance(30)
    still = await attempt(http, world.user.email, PASSWORD)
    assert still.status_code == 429
    assert 20 <= int(still.headers["retry-after"]) <= 31
    clock.advance(31)
    signed = await attempt(http, world.user.email, PASSWORD)
    assert signed.status_code == 303, signed.text
    assert (await http.get(ME)).json()["user"]["email"] == "user@example.com"


async def test_one_failure_short_of_the_limit_still_signs_in(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await fail(http, world.user.email, settings.throttle_sign_in_per_email - 1)
    assert (await attempt(http, world.user.email, PASSWORD)).status_code == 303


async def test_failures_outside_the_window_do_not_add_up(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    await fail(http, world.user.email, settings.throttle_sign_in_per_email - 1)
    clock.advance(settings.throttle_window + 1)
    await fail(http, world.user.email, settings.throttle_sign_in_per_email - 1)
    assert (await attempt(http, world.user.email, PASSWORD)).status_code == 303


async def test_throttling_ignores_the_case_of_the_email(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    await fail(http, "user@example.com", settings.throttle_sign_in_per_email)
    assert (await attempt(http, "User@Example.COM", PASSWORD)).status_code == 429


async def test_throttling_is_per_email(http: httpx.AsyncClient, world: World, settings: Settings) -> None:
    await fail(http, world.user.email, settings.throttle_sign_in_per_email)
    assert (await attempt(http, world.user.email, PASSWORD)).status_code == 429
    assert (await attempt(http, world.admin.email, PASSWORD)).status_code == 303


async def test_throttling_is_per_account(
    http: httpx.AsyncClient, world: World, settings: Settings, stores: Stores, clock: Clock, app: object
) -> None:
    other = await make_world(stores, clock)
    await fail(http, "user@example.com", settings.throttle_sign_in_per_email)
    assert (await attempt(http, "user@example.com", PASSWORD)).status_code == 429
    async with browser(app, other.origin) as elsewhere:
        assert (await attempt(elsewhere, "user@example.com", PASSWORD)).status_code == 303


# -- The session cookie (INTERFACE.md sections 2 and 5) ------------------------------------------


async def test_session_cookie_is_httponly_samesite_lax_and_host_only(http: httpx.AsyncClient, world: World) -> None:
    response = await sign_in(http, world.user.email)
    assert response.status_code == 303
    header = session_cookie(response)
    attributes = [a.strip().lower() for a in header.split(";")[1:]]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain") for a in attributes)


async def test_session_identifier_changes_at_sign_in_and_the_old_one_dies(
    http: httpx.AsyncClient, world: World, app: object
) -> None:
    """Session fixation (OWASP ASVS 3.2.1): signing in in a browser that already has a
    session replaces it; the old identifier no longer authenticates."""
    await sign_in(http, world.admin.email)
    first = http.cookies["tessera_session"]
    assert (await me_with_cookie(app, world.origin, first)).status_code == 200
    await sign_in(http, world.user.email)
    second = http.cookies["tessera_session"]
    assert second != first
    assert (await me_with_cookie(app, world.origin, first)).status_code == 401
    me = await me_with_cookie(app, world.origin, second)
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "user@example.com"


async def test_a_planted_session_cookie_is_not_adopted(http: httpx.AsyncClient, world: World) -> None:
    http.cookies.set("tessera_session", "attacker-chosen-value", domain=f"{world.subdomain}.localhost")
    response = await sign_in(http, world.user.email)
    assert response.status_code == 303
    value = session_cookie(response).split(";", 1)[0].split("=", 1)[1]
    assert value != "attacker-chosen-value"
    assert len(value) >= 43  # 256 bits, base64url


async def test_successful_sign_in_redirects_with_303(http: httpx.AsyncClient, world: World) -> None:
    response = await sign_in(http, world.user.email, return_to="/access/apps")
    assert response.status_code == 303
    assert response.headers["location"] == "/access/apps"


# -- return_to: same-host paths only (CWE-601) --------------------------------------------------


@pytest.mark.parametrize(
    "return_to",
    [
        "//evil.com",
        "//evil.com/path",
        "https://evil.com",
        "http://evil.com/",
        "/\\evil.com",
        "\\\\evil.com",
        "evil.com",
        "javascript:alert(1)",
        "/\tevil",
    ],
)
async def test_return_to_off_this_host_is_replaced_by_root(
    http: httpx.AsyncClient, world: World, return_to: str
) -> None:
    fields = await login_form(http, return_to=return_to)
    assert fields["return_to"] == "/"
    # A forged form field is checked again on the POST.
    response = await http.post(LOGIN, data=dict(fields, return_to=return_to, email=world.user.email, password=PASSWORD))
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_return_to_path_on_this_host_is_kept(http: httpx.AsyncClient, world: World) -> None:
    target = "/oauth/authorizations/new?client_id=x&state=a%2Fb"
    fields = await login_form(http, return_to=target)
    assert fields["return_to"] == target
    response = await http.post(LOGIN, data=dict(fields, email=world.user.email, password=PASSWORD))
    assert response.headers["location"] == target


async def test_cookies_are_secure_when_served_over_https(settings: Settings, database: object, world: World) -> None:
    """OWASP ASVS 3.4.1: with the https scheme, both cookies carry Secure."""
    app = create_app(settings.with_overrides(scheme="https"), db=database)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"https://{world.subdomain}.localhost") as secure:
        page = await secure.get(LOGIN)
        (login_cookie,) = page.headers.get_list("set-cookie")
        assert login_cookie.startswith("tessera_login=")
        assert "secure" in [a.strip().lower() for a in login_cookie.split(";")]
        form = forms(page.text)[-1]
        signed = await secure.post(LOGIN, data=dict(form.fields, email=world.user.email, password=PASSWORD))
        assert signed.status_code == 303
        assert "secure" in [a.strip().lower() for a in session_cookie(signed).split(";")]


async def test_cookies_are_not_secure_over_plain_http(http: httpx.AsyncClient, world: World) -> None:
    """The local default (http://SUB.localhost): a Secure cookie would never come back."""
    signed = await sign_in(http, world.user.email)
    assert "secure" not in [a.strip().lower() for a in session_cookie(signed).split(";")]


async def test_session_expires_after_its_lifetime_however_active(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    """The absolute timeout (OWASP ASVS 3.3.1): a session used every few hours still ends
    `session_lifetime` seconds after sign-in."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    step = settings.session_idle_timeout - 3600
    used = 0
    while used + step < settings.session_lifetime - 60:
        clock.advance(step)
        used += step
        assert (await http.get(ME)).status_code == 200, used
    clock.advance(settings.session_lifetime - 60 - used)
    assert (await http.get(ME)).status_code == 200
    clock.advance(61)
    assert (await http.get(ME)).status_code == 401


async def test_session_ends_after_the_idle_timeout(
    http: httpx.AsyncClient, world: World, settings: Settings, clock: Clock
) -> None:
    """The idle timeout (OWASP ASVS 3.3.1): unused for `session_idle_timeout` seconds, the
    session is over; each use moves the deadline on (to within the one-minute touch interval)."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    clock.advance(settings.session_idle_timeout - 60)
    assert (await http.get(ME)).status_code == 200  # used: the idle deadline moves on
    clock.advance(settings.session_idle_timeout - 60)
    assert (await http.get(ME)).status_code == 200
    clock.advance(settings.session_idle_timeout + 1)
    assert (await http.get(ME)).status_code == 401
    assert (await sign_in(http, world.user.email)).status_code == 303  # a new sign-in starts afresh
    assert (await http.get(ME)).status_code == 200


async def test_the_last_use_is_written_at_most_once_a_minute(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """The API with a session cookie is a hot path: reading must not mean writing. Within a
    minute of the last recorded use, further requests leave `last_seen_at` as it was."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    digest = secrets.digest(http.cookies["tessera_session"])
    started = await stores.sessions.find(digest, clock(), 0)
    assert started is not None
    for _ in range(5):
        clock.advance(10)
        assert (await http.get(ME)).status_code == 200
    unchanged = await stores.sessions.find(digest, clock(), 0)
    assert unchanged is not None and unchanged.last_seen_at == started.last_seen_at
    clock.advance(10)  # 60 s since the sign-in
    assert (await http.get(ME)).status_code == 200
    moved = await stores.sessions.find(digest, clock(), 0)
    assert moved is not None and moved.last_seen_at >= started.last_seen_at + 60


async def test_a_hash_made_with_older_parameters_is_replaced_at_sign_in(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """passwords.py: raising the argon2id parameters reaches existing users at their next
    sign-in, while the password is at hand; the same password keeps working."""
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID).hash(PASSWORD)
    user = await stores.users.create(world.account.id, "older@example.com", "Olga Older", "end-user", old, clock())
    assert passwords.needs_rehash(old)
    assert (await sign_in(http, user.email)).status_code == 303
    stored = await stores.users.find_by_email(world.account.id, user.email)
    assert stored is not None
    assert stored.password_hash != old
    assert not passwords.needs_rehash(stored.password_hash)
    assert stored.updated_at == user.updated_at  # the password did not change
    http.cookies.clear()
    assert (await sign_in(http, user.email)).status_code == 303


async def test_a_current_hash_is_left_alone_at_sign_in(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    assert (await sign_in(http, world.user.email)).status_code == 303
    stored = await stores.users.find_by_email(world.account.id, world.user.email)
    assert stored is not None
    assert stored.password_hash == world.user.password_hash


async def test_a_rehash_never_undoes_a_password_changed_meanwhile(world: World, stores: Stores) -> None:
    """users.replace_hash only replaces the hash that was verified."""
    replaced = await stores.users.replace_hash(world.account.id, world.user.id, "not-the-stored-hash", "new")
    assert not replaced
    stored = await stores.users.find_by_email(world.account.id, world.user.email)
    assert stored is not None
    assert stored.password_hash == world.user.password_hash
