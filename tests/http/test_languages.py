"""Pages in the reader's language (docs/languages.md): the sign-in, consent and error pages
in German, Japanese and Arabic per Accept-Language, ?lang= and the tessera_lang cookie, the
page's lang and dir, Content-Language and Vary; OAuth and JSON errors stay English."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.http.admin_support import bearer
from tests.support import PASSWORD, Clock, World, authorize_url, forms, sign_in, unisolated

pytestmark = pytest.mark.anyio

LOGIN = "/access/login"


def html_tag(page: httpx.Response) -> str:
    match = re.search(r"<html[^>]*>", page.text)
    assert match is not None, page.text[:200]
    return match.group(0)


@pytest.mark.parametrize(
    ("accept", "code", "direction", "words"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de", "ltr", ["<h1>Anmelden</h1>", "Passwort vergessen?", "E-Mail"]),
        ("ja,en-US;q=0.9", "ja", "ltr", ["<h1>サインイン</h1>", "パスワードをお忘れですか？"]),
        ("ar-EG", "ar", "rtl", ["<h1>تسجيل الدخول</h1>", "كلمة المرور"]),
        ("fr-FR", "en", "ltr", ["<h1>Sign in</h1>", "Forgot your password?"]),
    ],
)
async def test_the_sign_in_page_speaks_the_accept_language(
    http: httpx.AsyncClient, accept: str, code: str, direction: str, words: list[str]
) -> None:
    page = await http.get(LOGIN, headers={"Accept-Language": accept})
    assert page.status_code == 200
    assert html_tag(page) == f'<html lang="{code}" dir="{direction}">'
    for word in words:
        assert word in page.text
    assert page.headers["Content-Language"] == code
    assert "Accept-Language" in page.headers["Vary"]
    assert page.headers["Cache-Control"] == "no-store"
    # The form itself is the same in every language: field names, action, CSRF token.
    assert 'name="email"' in page.text and 'name="password"' in page.text
    assert 'name="authenticity_token"' in page.text
    assert "tessera_lang" not in page.headers.get("set-cookie", "")


async def test_every_page_has_a_language_switch_marking_the_current_one(http: httpx.AsyncClient) -> None:
    page = await http.get(LOGIN, params={"return_to": "/device"}, headers={"Accept-Language": "ja"})
    nav = re.search(r'<nav class="languages" aria-label="言語">(.*?)</nav>', page.text, re.S)
    assert nav is not None, page.text
    assert '<a href="/access/login?return_to=%2Fdevice&amp;lang=de" lang="de" hreflang="de">Deutsch</a>' in nav.group(1)
    assert '<a href="/access/login?return_to=%2Fdevice&amp;lang=ja" lang="ja" hreflang="ja" aria-current="true">' in (
        nav.group(1)
    )
    assert nav.group(1).count("aria-current") == 1


async def test_lang_chooses_and_the_cookie_remembers(http: httpx.AsyncClient) -> None:
    chosen = await http.get(LOGIN, params={"lang": "ar"}, headers={"Accept-Language": "de"})
    assert html_tag(chosen) == '<html lang="ar" dir="rtl">'
    cookie = chosen.headers["set-cookie"]
    assert cookie.startswith("tessera_lang=ar;")
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    # The cookie (kept by the client) now beats Accept-Language, on every page.
    again = await http.get(LOGIN, headers={"Accept-Language": "de"})
    assert html_tag(again) == '<html lang="ar" dir="rtl">'
    assert "set-cookie" not in again.headers
    missing = await http.get("/no-such-page", headers={"Accept": "text/html", "Accept-Language": "de"})
    assert missing.status_code == 404
    assert html_tag(missing) == '<html lang="ar" dir="rtl">'
    # Another explicit choice replaces it.
    german = await http.get(LOGIN, params={"lang": "de"})
    assert html_tag(german) == '<html lang="de" dir="ltr">'
    assert german.headers["set-cookie"].startswith("tessera_lang=de;")


@pytest.mark.parametrize("value", ["xx", "de<script>alert(1)</script>", "ja\r\nX-Bad: 1", "../de", ""])
async def test_an_invalid_lang_is_ignored_and_never_echoed(http: httpx.AsyncClient, value: str) -> None:
    page = await http.get(LOGIN, params={"lang": value}, headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    assert html_tag(page) == '<html lang="ja" dir="ltr">'
    assert "tessera_lang" not in page.headers.get("set-cookie", "")
    assert "<script>" not in page.text
    assert "X-Bad" not in page.text and "x-bad" not in page.headers
    assert "%3Cscript" not in page.text


async def test_an_invalid_cookie_is_ignored(http: httpx.AsyncClient) -> None:
    page = await http.get(LOGIN, headers={"Accept-Language": "de", "Cookie": "tessera_lang=<b>x</b>"})
    assert html_tag(page) == '<html lang="de" dir="ltr">'
    assert "<b>x</b>" not in page.text


async def test_a_failed_sign_in_says_why_in_the_language(http: httpx.AsyncClient, world: World) -> None:
    http.headers["Accept-Language"] = "ja"
    page = await http.get(LOGIN)
    token = re.search(r'name="authenticity_token" value="([^"]+)"', page.text)
    assert token is not None
    refused = await http.post(
        LOGIN, data={"authenticity_token": token.group(1), "email": world.user.email, "password": "wrong one"}
    )
    assert refused.status_code == 401
    assert "メールアドレスまたはパスワードが正しくありません。" in refused.text
    assert refused.headers["Content-Language"] == "ja"


async def test_the_consent_page_and_its_scopes_are_translated(http: httpx.AsyncClient, world: World) -> None:
    http.headers["Accept-Language"] = "de"
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web, scope="read tickets:write"))
    assert page.status_code == 200, page.text
    assert html_tag(page) == '<html lang="de" dir="ltr">'
    assert f"{world.web.client.name} den Zugriff auf Ihr Konto bei {world.account.name} erlauben?" in unisolated(
        page.text
    )
    assert "<li>Alles in Ihrem Konto lesen</li>" in page.text
    assert "<li>Tickets erstellen, ändern und löschen</li>" in page.text
    assert 'name="decision" value="allow" class="primary">Zulassen</button>' in page.text
    assert page.headers["Content-Language"] == "de"


async def test_error_pages_are_translated_and_oauth_errors_stay_english(http: httpx.AsyncClient, world: World) -> None:
    http.headers["Accept-Language"] = "ja"
    bad = await http.get(authorize_url(world.web, redirect_uri="https://elsewhere.example/cb"))
    assert bad.status_code == 400
    assert html_tag(bad) == '<html lang="ja" dir="ltr">'
    assert "このアプリのリクエストは使用できません" in bad.text
    # The developer's details are the OAuth error's words, in English, marked so.
    assert '<dl class="facts" lang="en" dir="ltr">' in bad.text
    assert "is not registered for the client" in bad.text
    missing = await http.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "<h1>見つかりません</h1>" in missing.text
    token = await http.post("/oauth/tokens", data={"grant_type": "password"}, headers={"Accept-Language": "de"})
    assert token.status_code in (400, 401)
    body = token.json()
    assert body["error"] in ("invalid_request", "invalid_client")
    assert body["error_description"].isascii()
    assert "Content-Language" not in token.headers


async def test_the_console_frame_and_its_refusal_speak_the_language(http: httpx.AsyncClient, world: World) -> None:
    http.headers["Accept-Language"] = "ja"
    await sign_in(http, world.user.email)
    refused = await http.get("/admin/clients")
    assert refused.status_code == 403
    assert html_tag(refused) == '<html lang="ja" dir="ltr">'
    assert "<h1>管理者専用</h1>" in refused.text
    assert "ロールが「エンドユーザー」の" in refused.text
    await sign_in(http, world.admin.email)
    console = await http.get("/admin/clients", headers={"Accept-Language": "de"})
    assert console.status_code == 200
    assert html_tag(console) == '<html lang="de" dir="ltr">'
    assert '<nav class="console-nav" aria-label="Admin-Bereiche">' in console.text
    assert '<span class="nav-long">OAuth-Clients</span>' in console.text
    assert '<nav class="languages" aria-label="Sprache">' in console.text
    missing = await http.get("/admin/clients/999999", headers={"Accept-Language": "de"})
    assert missing.status_code == 404
    assert "Client nicht gefunden" in missing.text


async def test_the_console_pages_and_their_notices_speak_the_language(http: httpx.AsyncClient, world: World) -> None:
    """The console's own pages and the notice after an action are in the reader's language."""
    await sign_in(http, world.admin.email)
    http.cookies.set("tessera_lang", "ar")
    users = await http.get("/admin/users")
    assert html_tag(users) == '<html lang="ar" dir="rtl">'
    assert "<h1>المستخدمون</h1>" in users.text and "مستخدم جديد" in users.text
    assert "People who can sign in" not in users.text
    form = await http.get("/admin/users/new")
    token = re.search(r'name="authenticity_token" value="([^"]+)"', form.text)
    assert token is not None
    bad = await http.post(
        "/admin/users", data={"authenticity_token": token.group(1), "email": "not-an-email", "role": "agent"}
    )
    assert bad.status_code == 422
    assert "لم يُضَف المستخدم." in bad.text and "The user was not added." not in bad.text
    made = await http.post(
        "/admin/users",
        data={"authenticity_token": token.group(1), "email": "carol@example.com", "name": "Carol", "role": "agent"},
    )
    assert made.status_code == 303
    added = await http.get(made.headers["location"])
    assert "أُضيف Carol بصفة وكيل." in added.text
    assert "was added" not in added.text
    http.cookies.set("tessera_lang", "ja")
    audit = await http.get("/admin/audit")
    assert "<h1>監査ログ</h1>" in audit.text and "すべての操作" in audit.text
    assert ">作成</span>" in audit.text  # the action "create", labelled
    clients = await http.get("/admin/clients/new")
    assert "新しいクライアント" in clients.text and "認可コード" in clients.text
    assert "<code>authorization_code</code>" in clients.text  # the grant type's name stays


def _field_errors(page: httpx.Response, field: str) -> list[str]:
    """The messages shown beside a console form's field (its `FIELD-error` list)."""
    found = re.search(rf'<ul class="field-errors" id="{field}-error">(.*?)</ul>', page.text, re.S)
    assert found is not None, f"no messages beside {field}: {page.text[:300]}"
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


async def _console_form(http: httpx.AsyncClient, path: str, lang: str) -> str:
    page = await http.get(path, params={"lang": lang})
    assert page.headers["Content-Language"] == lang
    token = re.search(r'name="authenticity_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


async def test_the_console_says_why_a_client_field_is_refused_in_the_language(
    http: httpx.AsyncClient, world: World
) -> None:
    """Each message beside a field of the client form in German (the cookie set by ?lang=de):
    the reason translated, its data (the URI, the line, the scope, the value typed) as given."""
    await sign_in(http, world.admin.email)
    token = await _console_form(http, "/admin/clients/new", "de")
    refused = await http.post(
        "/admin/clients",
        data={
            "authenticity_token": token,
            "name": "",
            "identifier": "bad id!",
            "kind": "confidential",
            "redirect_uri": "https://ok.example/cb\nhttp://reports.example.com/cb",
            "grant_types": ["authorization_code"],
            "allowed_scopes": "read bogus",
            "access_token_lifetime": "soon",
            "access_token_format": "opaque",
            "jwks": '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}',
        },
    )
    assert refused.status_code == 422
    assert html_tag(refused) == '<html lang="de" dir="ltr">'
    assert _field_errors(refused, "name") == ["name darf nicht leer sein"]
    assert _field_errors(refused, "identifier") == [
        "Die Kennung 'bad id!' ist ungültig: Verwenden Sie Buchstaben, Ziffern, '_', '.' und '-' "
        "(bis zu 255, am Anfang ein Buchstabe oder eine Ziffer)"
    ]
    assert _field_errors(refused, "redirect_uri") == [
        "Zeile 2: 'http://reports.example.com/cb' verwendet http; verwenden Sie https "
        "(http ist nur für localhost und Loopback-Adressen erlaubt)"
    ]
    assert _field_errors(refused, "allowed_scopes")[0].startswith("Unbekannter Scope: bogus; bekannte Scopes")
    assert _field_errors(refused, "access_token_lifetime") == [
        "Die Gültigkeit des Zugriffstokens muss in Sekunden oder als 'never' angegeben werden, nicht 'soon'"
    ]
    assert _field_errors(refused, "jwks") == [
        "Schlüssel 1 ist ein symmetrischer Schlüssel (oct); registrieren Sie nur öffentliche Schlüssel "
        "(RSA, EC oder OKP)"
    ]
    assert "must not be empty" not in refused.text and "uses http" not in refused.text


async def test_the_console_says_why_user_and_resource_fields_are_refused_in_the_language(
    http: httpx.AsyncClient, world: World
) -> None:
    """The new-user form in Japanese and the new-resource form in Arabic: each reason beside
    its field in the page's language (the password's too, from the password rules: for a
    password an admin sets, its length alone)."""
    await sign_in(http, world.admin.email)
    token = await _console_form(http, "/admin/users/new", "ja")
    user = await http.post(
        "/admin/users",
        data={"authenticity_token": token, "email": "not-an-email", "role": "agent", "password": "short"},
    )
    assert user.status_code == 422
    assert html_tag(user) == '<html lang="ja" dir="ltr">'
    assert _field_errors(user, "email") == [
        "'not-an-email' は有効なメールアドレスではありません（例：name@example.com）"
    ]
    assert _field_errors(user, "password") == ["パスワードは 8 文字以上にしてください（現在 5 文字）"]
    common = await http.post(
        "/admin/users",
        data={"authenticity_token": token, "email": "dan@example.com", "role": "agent", "password": "password1"},
    )
    assert common.status_code == 303, common.text  # INTERFACE.md: 8 characters or more
    token = await _console_form(http, "/admin/resources/new", "ar")
    resource = await http.post(
        "/admin/resources",
        data={"authenticity_token": token, "uri": "https://api.example.com/#top", "name": "", "scopes": "openid read"},
    )
    assert resource.status_code == 422
    assert html_tag(resource) == '<html lang="ar" dir="rtl">'
    # Each value isolated (U+2068 ... U+2069): a URI keeps its direction inside Arabic.
    assert _field_errors(resource, "uri") == [
        "يحتوي \u2068'https://api.example.com/#top'\u2069 على جزء fragment، ولا يجوز ذلك في عنوان URI للمورد "
        "(RFC 8707، القسم 2)"
    ]
    assert _field_errors(resource, "scopes") == [
        "\u2068openid\u2069 يخص المستخدم لا المورد؛ اذكر نطاقات API التي يقبلها المورد"
    ]


async def test_the_console_in_english_and_the_api_say_the_same_english_reasons(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """The reasons' English is what it was: beside the field of an English console page, and
    in the management API's 422 whatever Accept-Language asks (INTERFACE.md section 6)."""
    await sign_in(http, world.admin.email)
    token = await _console_form(http, "/admin/resources/new", "en")
    resource = await http.post(
        "/admin/resources",
        data={"authenticity_token": token, "uri": "https://api.example.com/#top", "name": "", "scopes": ""},
    )
    assert _field_errors(resource, "uri") == [
        "'https://api.example.com/#top' has a fragment; a resource URI may not (RFC 8707 section 2)"
    ]
    headers = await bearer(stores, world, world.admin, "users:write", clock)
    api = await http.post(
        "/api/v2/users",
        json={"user": {"email": "not-an-email", "role": "agent", "password": "short"}},
        headers={**headers, "Accept-Language": "de"},
    )
    assert api.status_code == 422, api.text
    assert api.json()["details"] == {
        "email": [{"description": "email 'not-an-email' is not a valid address (expected name@example.com)"}],
        "password": [{"description": "password must be at least 8 characters (it has 5)"}],
    }
    assert "Content-Language" not in api.headers


# --- ui_locales: the app's languages for the pages of one authorization request ----------------


def _login_form(page: httpx.Response) -> dict[str, str]:
    form = next(f for f in forms(page.text) if f.action == LOGIN and "email" in f.fields)
    return dict(form.fields)


async def test_ui_locales_carries_through_sign_in_and_consent(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 1.0 section 3.1.2.1: ui_locales, space-separated BCP 47 tags in order of
    preference; an unsupported one is skipped ("fr-CA") and a regional one falls back to its
    language ("ja-JP"). It beats Accept-Language, lasts through the redirect to the sign-in
    page, a failed sign-in and the consent page, and is never remembered in the cookie."""
    http.headers["Accept-Language"] = "de"
    start = await http.get(authorize_url(world.web, ui_locales="fr-CA ja-JP de"))
    assert start.status_code == 302
    login = await http.get(start.headers["location"])
    assert html_tag(login) == '<html lang="ja" dir="ltr">'
    assert "<h1>サインイン</h1>" in login.text
    fields = _login_form(login)
    assert fields["ui_locales"] == "fr-CA ja-JP de"
    failed = await http.post(LOGIN, data={**fields, "email": world.user.email, "password": "wrong one"})
    assert failed.status_code == 401
    assert html_tag(failed) == '<html lang="ja" dir="ltr">'
    assert "メールアドレスまたはパスワードが正しくありません。" in failed.text
    assert _login_form(failed)["ui_locales"] == "fr-CA ja-JP de"
    signed_in = await http.post(LOGIN, data={**fields, "email": world.user.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    consent = await http.get(signed_in.headers["location"])
    assert consent.status_code == 200, consent.text
    assert html_tag(consent) == '<html lang="ja" dir="ltr">'
    assert consent.headers["Content-Language"] == "ja"
    assert "tessera_lang" not in str(http.cookies)
    # The consent form carries it to its POST: a form that fails there speaks it too.
    form = next(f for f in forms(consent.text) if f.action == "/oauth/authorizations")
    assert form.fields["ui_locales"] == "fr-CA ja-JP de"
    expired = await http.post(form.action, data={**form.fields, "authenticity_token": "stale", "decision": "allow"})
    assert expired.status_code == 403
    assert html_tag(expired) == '<html lang="ja" dir="ltr">'


async def test_the_readers_choice_beats_ui_locales(http: httpx.AsyncClient, world: World) -> None:
    """The order: ?lang= (the reader's click), the tessera_lang cookie (the reader's choice
    remembered), ui_locales (the app's hint for this flow), Accept-Language, English."""
    url = authorize_url(world.web, ui_locales="ar")
    login_url = (await http.get(url, headers={"Accept-Language": "de"})).headers["location"]
    assert "ui_locales=ar" in login_url
    hinted = await http.get(login_url, headers={"Accept-Language": "de"})
    assert html_tag(hinted) == '<html lang="ar" dir="rtl">'
    clicked = await http.get(login_url + "&lang=ja", headers={"Accept-Language": "de"})
    assert html_tag(clicked) == '<html lang="ja" dir="ltr">'
    remembered = await http.get(login_url, headers={"Accept-Language": "de"})  # the cookie ?lang=ja set
    assert html_tag(remembered) == '<html lang="ja" dir="ltr">'
    http.cookies.clear()
    unsupported = await http.get(authorize_url(world.web, ui_locales="fr xx-YY"), headers={"Accept-Language": "de"})
    # Nothing we speak: the sign-in page is not given it (the request keeps it in return_to).
    assert "ui_locales" not in parse_qs(urlsplit(unsupported.headers["location"]).query)
    assert html_tag(await http.get(unsupported.headers["location"], headers={"Accept-Language": "de"})) == (
        '<html lang="de" dir="ltr">'
    )
    english = await http.get(login_url.replace("ui_locales=ar", "ui_locales=%3Cb%3E"))
    assert html_tag(english) == '<html lang="en" dir="ltr">'
    assert "<b>" not in english.text and "&lt;b&gt;" not in english.text


async def test_ui_locales_on_the_error_page_of_an_authorization_request(http: httpx.AsyncClient, world: World) -> None:
    """A request the server cannot send back to the app gets a page, in ui_locales' language."""
    bad = await http.get(authorize_url(world.web, redirect_uri="https://elsewhere.example/cb", ui_locales="de-CH"))
    assert bad.status_code == 400
    assert html_tag(bad) == '<html lang="de" dir="ltr">'


async def test_a_pushed_requests_ui_locales_reach_its_pages(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126: the request's parameters were pushed; the browser's URL holds only
    client_id and request_uri. Its ui_locales still choose the sign-in page's language."""
    from tests.http.test_par import by_reference, pushed_uri

    request_uri = await pushed_uri(http, world.web, ui_locales="ar")
    start = await http.get(by_reference(world.web, request_uri), headers={"Accept-Language": "de"})
    assert start.status_code == 302, start.text
    login = await http.get(start.headers["location"], headers={"Accept-Language": "de"})
    assert html_tag(login) == '<html lang="ar" dir="rtl">'
    fields = _login_form(login)
    signed_in = await http.post(LOGIN, data={**fields, "email": world.user.email, "password": PASSWORD})
    consent = await http.get(signed_in.headers["location"], headers={"Accept-Language": "de"})
    assert consent.status_code == 200, consent.text
    assert html_tag(consent) == '<html lang="ar" dir="rtl">'
