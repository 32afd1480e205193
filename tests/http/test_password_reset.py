"""Password reset by e-mail (docs/password-reset.md), on both engines: the same answer
whether or not the address has a user, a single-use, short-lived link whose token is stored
only as its digest, the password rules, sessions ended, throttles, and a mail server that
fails without the page failing. E-mail goes to a real local SMTP server (mail_catcher.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tessera import mail_catcher
from tessera.app import create_app
from tessera.mail_catcher import MailCatcher
from tessera.settings import Settings
from tessera.storage import schema
from tessera.storage.audit import AuditFilter
from tessera.storage.database import Database
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, World, forms, sign_in

pytestmark = pytest.mark.anyio

FORGOT = "/access/password/forgot"
RESET = "/access/password/reset"
DONE = "/access/password/reset/done"
NEW_PASSWORD = "lantern orchard quietly 47"


@pytest.fixture(scope="module")
def catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as running:
        yield running


@pytest.fixture
def mail_settings(settings: Settings, catcher: MailCatcher) -> Settings:
    return settings.with_overrides(smtp_host="127.0.0.1", smtp_port=catcher.port, smtp_timeout=5.0)


@pytest.fixture
async def http(mail_settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(mail_settings, db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client
        await app.state.services.password_resets.mailer.drain()


async def ask_for_link(http: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await http.get(FORGOT)
    assert page.status_code == 200, page.text
    fields = forms(page.text)[-1].fields
    return await http.post(FORGOT, data=dict(fields, email=email))


async def mails_to(catcher: MailCatcher, world: World, email: str, count: int = 1) -> list[str]:
    """The reset links of the world's account e-mailed to `email` (waiting for `count` of
    them), oldest first. Every world's users have the same addresses; the link tells apart."""

    def wait() -> list[str]:
        deadline = 10.0
        while True:
            found = [mail_catcher.links(m)[0] for m in catcher.messages if m["To"] == email]
            mine = [link for link in found if link.startswith(world.origin + "/")]
            if len(mine) >= count:
                return mine
            catcher.wait_for(len(catcher.messages) + 1, deadline)

    return await asyncio.to_thread(wait)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def set_password(http: httpx.AsyncClient, link: str, password: str, again: str | None = None) -> httpx.Response:
    page = await http.get(RESET, params={"token": token_of(link)})
    assert page.status_code == 200, page.text
    fields = forms(page.text)[-1].fields
    data = dict(fields, password=password, password_confirmation=password if again is None else again)
    return await http.post(RESET, data=data)


def visible(html: str) -> str:
    """The page with its per-browser CSRF token blanked out."""
    return re.sub(r'name="authenticity_token" value="[^"]*"', "", html)


async def test_the_answer_is_the_same_whether_or_not_the_address_has_a_user(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher
) -> None:
    unknown = f"nobody-{world.subdomain}@example.com"
    known = await ask_for_link(http, world.user.email)
    other = await ask_for_link(http, unknown)
    assert known.status_code == other.status_code == 200
    assert visible(known.text).replace(world.user.email, "EMAIL") == visible(other.text).replace(unknown, "EMAIL")
    assert "Check your e-mail" in known.text
    links = await mails_to(catcher, world, world.user.email)
    assert links[0].startswith(f"{world.origin}{RESET}?token=")
    assert not [m for m in catcher.messages if m["To"] == unknown]
    # The unknown address got no e-mail, and no other e-mail went to the account meanwhile.
    assert len(await mails_to(catcher, world, world.user.email)) == 1


async def test_a_link_sets_the_password_once_and_the_old_password_stops_working(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    done = await set_password(http, link, NEW_PASSWORD)
    assert done.status_code == 303, done.text
    page = await http.get(done.headers["location"])
    assert "Your password is set" in page.text and "you were signed out on every device" in page.text
    again = await http.get(RESET, params={"token": token_of(link)})
    assert again.status_code == 400 and "This link no longer works" in again.text
    assert (await sign_in(http, world.user.email, PASSWORD)).status_code == 401
    assert (await sign_in(http, world.user.email, NEW_PASSWORD)).status_code == 303


async def test_setting_the_password_redirects_to_a_page_that_says_so_again_when_reloaded(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, mail_settings: Settings, database: Database
) -> None:
    """Post/Redirect/Get, as GET /device/decision does: the form's POST answers 303 to a GET
    page, so reloading the success reloads that page (it used to send the spent token again
    and say the link no longer works). The page's URL holds no token, and it shows nothing of
    the user: whoever opens it sees the same page. This browser's session ended too."""
    assert (await sign_in(http, world.user.email)).status_code == 303
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    token = token_of(link)
    answer = await set_password(http, link, NEW_PASSWORD)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == DONE
    assert answer.headers["cache-control"] == "no-store"
    shown = []
    for _ in range(2):  # the page, then a reload
        page = await http.get(answer.headers["location"])
        assert page.status_code == 200, page.text
        assert "Your password is set" in page.text and "you were signed out on every device" in page.text
        assert 'href="/access/login"' in page.text
        assert token not in page.text and world.user.email not in page.text
        shown.append(page.text)
    assert shown[0] == shown[1]
    signed_out = await http.get("/access/apps")
    assert signed_out.status_code == 302 and signed_out.headers["location"].startswith("/access/login")
    app = create_app(mail_settings, db=database)  # another browser: no cookie, no token
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as stranger:
        assert (await stranger.get(DONE)).text == shown[0]
    # The link itself, opened again later, is spent: that page may say so.
    again = await http.get(RESET, params={"token": token})
    assert again.status_code == 400 and "This link no longer works" in again.text


async def test_a_used_link_posted_again_sets_nothing(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, stores: Stores
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    page = await http.get(RESET, params={"token": token_of(link)})
    fields = forms(page.text)[-1].fields
    first = await http.post(RESET, data=dict(fields, password=NEW_PASSWORD, password_confirmation=NEW_PASSWORD))
    assert first.status_code == 303
    other = "second attempt marmalade 99"
    second = await http.post(RESET, data=dict(fields, password=other, password_confirmation=other))
    assert second.status_code == 400 and "This link no longer works" in second.text
    assert (await sign_in(http, world.user.email, other)).status_code == 401


async def test_a_link_expires(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, clock: Clock, mail_settings: Settings
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    assert (await http.get(RESET, params={"token": token_of(link)})).status_code == 200
    clock.advance(mail_settings.password_reset_lifetime + 1)
    expired = await http.get(RESET, params={"token": token_of(link)})
    assert expired.status_code == 400 and "This link no longer works" in expired.text


async def test_only_the_newest_link_works_and_using_it_spends_every_link(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher
) -> None:
    # The link is made and sent after the page has answered: wait for the first before
    # asking again, or the two could be made in either order.
    await ask_for_link(http, world.user.email)
    (first,) = await mails_to(catcher, world, world.user.email)
    await ask_for_link(http, world.user.email)
    (second,) = [link for link in await mails_to(catcher, world, world.user.email, 2) if link != first]
    assert (await http.get(RESET, params={"token": token_of(first)})).status_code == 400
    assert (await set_password(http, second, NEW_PASSWORD)).status_code == 303
    assert (await http.get(RESET, params={"token": token_of(second)})).status_code == 400


async def test_the_token_is_stored_only_as_its_digest(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, database: Database
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    token = token_of(link)
    assert len(token) >= 43  # 256 bits, base64url

    def rows(conn: sa.Connection) -> list[sa.Row]:  # type: ignore[type-arg]
        table = schema.password_resets
        return list(conn.execute(sa.select(table).where(table.c.account_id == world.account.id)))

    (row,) = await database.read(rows)
    assert row.digest == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in b"".join(str(value).encode() for value in row)


async def test_setting_a_password_ends_the_users_sessions(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, mail_settings: Settings, database: Database
) -> None:
    app = create_app(mail_settings, db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as elsewhere:
        assert (await sign_in(elsewhere, world.user.email)).status_code == 303
        assert (await elsewhere.get("/access/apps")).status_code == 200
        await ask_for_link(http, world.user.email)
        (link,) = await mails_to(catcher, world, world.user.email)
        assert (await set_password(http, link, NEW_PASSWORD)).status_code == 303
        signed_out = await elsewhere.get("/access/apps")
        assert signed_out.status_code == 302 and signed_out.headers["location"].startswith("/access/login")


async def test_the_new_password_follows_the_same_rules(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    common = await set_password(http, link, "password123")
    assert common.status_code == 400
    assert "one of the most common passwords" in common.text and "three or four unrelated words" in common.text
    short = await set_password(http, link, "short")
    assert short.status_code == 400 and "at least 8 characters" in short.text
    mismatch = await set_password(http, link, NEW_PASSWORD, again=NEW_PASSWORD + "x")
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    # None of these spent the link.
    assert (await set_password(http, link, NEW_PASSWORD)).status_code == 303


async def test_the_forms_need_their_csrf_token(http: httpx.AsyncClient, world: World, catcher: MailCatcher) -> None:
    refused = await http.post(FORGOT, data={"email": world.user.email})
    assert refused.status_code == 403
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    data = {"token": token_of(link), "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    assert (await http.post(RESET, data=data)).status_code == 403
    assert (await set_password(http, link, NEW_PASSWORD)).status_code == 303


async def test_requests_are_throttled_per_email_whether_or_not_it_has_a_user(
    http: httpx.AsyncClient, world: World, mail_settings: Settings
) -> None:
    for email in (world.user.email, f"ghost-{world.subdomain}@example.com"):
        for _ in range(mail_settings.throttle_password_reset_per_email):
            assert (await ask_for_link(http, email)).status_code == 200
        refused = await ask_for_link(http, email)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert "Too many reset links" in refused.text


async def test_requests_are_throttled_per_source_address(
    http: httpx.AsyncClient, world: World, mail_settings: Settings
) -> None:
    for n in range(mail_settings.throttle_password_reset_per_address):
        assert (await ask_for_link(http, f"someone-{n}@example.com")).status_code == 200
    assert (await ask_for_link(http, "one-more@example.com")).status_code == 429


async def test_a_dead_mail_server_is_logged_never_shown(
    settings: Settings, database: Database, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    dead = mail_catcher.free_port()  # nobody listens there
    app = create_app(settings.with_overrides(smtp_host="127.0.0.1", smtp_port=dead, smtp_timeout=2.0), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        with caplog.at_level(logging.WARNING, logger="tessera.mail"):
            answer = await ask_for_link(client, world.user.email)
            assert answer.status_code == 200 and "Check your e-mail" in answer.text
            await app.state.services.password_resets.mailer.drain()
    assert any("could not send the password reset e-mail" in r.getMessage() for r in caplog.records)
    assert not any("token=" in r.getMessage() for r in caplog.records)


async def test_without_a_mail_server_the_page_says_whom_to_ask(
    settings: Settings, database: Database, world: World
) -> None:
    app = create_app(settings, db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        page = await client.get(FORGOT)
        assert page.status_code == 200
        assert "Ask an admin of" in page.text and 'name="email"' not in page.text


async def test_the_reset_is_audited(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher, stores: Stores
) -> None:
    await ask_for_link(http, world.user.email)
    (link,) = await mails_to(catcher, world, world.user.email)
    assert (await set_password(http, link, NEW_PASSWORD)).status_code == 303
    actions = [log.entry.action for log in await stores.audit.newest_first(world.account.id, AuditFilter())]
    assert actions[:2] == ["reset_password", "request_password_reset"]


async def test_the_sign_in_page_links_to_the_reset(http: httpx.AsyncClient) -> None:
    page = await http.get("/access/login", params={"email": "a@example.com"})
    assert f'href="{FORGOT}?email=a%40example.com"' in page.text


async def test_a_mail_server_that_never_answers_does_not_hold_the_page(
    settings: Settings, database: Database, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection is accepted (by the kernel's backlog) but no greeting ever comes: the
    page has answered while the delivery is still waiting, which then gives up and is logged."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        overrides = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 1.0}
        app = create_app(settings.with_overrides(**overrides), db=database)
        mailer = app.state.services.password_resets.mailer
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
            with caplog.at_level(logging.WARNING, logger="tessera.mail"):
                answer = await ask_for_link(client, world.user.email)
                assert answer.status_code == 200 and "Check your e-mail" in answer.text
                assert mailer._sending, "the delivery is still under way after the page answered"
                await mailer.drain()
    assert any("could not send the password reset e-mail" in r.getMessage() for r in caplog.records)


async def test_the_email_is_in_the_language_of_the_page_that_asked_for_it(
    http: httpx.AsyncClient, world: World, catcher: MailCatcher
) -> None:
    http.headers["Accept-Language"] = "de-DE,de;q=0.9"
    asked = await ask_for_link(http, world.user.email)
    assert "Sehen Sie in Ihr E-Mail-Postfach" in asked.text
    (link,) = await mails_to(catcher, world, world.user.email)
    (mail,) = [m for m in catcher.messages if link in mail_catcher.body(m)]
    assert mail["Subject"] == f"Passwort für {world.account.name} zurücksetzen"
    assert "Jemand hat das Zurücksetzen des Passworts" in mail_catcher.body(mail)
    assert "Minuten lang" in mail_catcher.body(mail)
