"""Rules every HTML page is held to: INTERFACE.md section 5 (X-Frame-Options, CSP
frame-ancestors, Referrer-Policy, Cache-Control; no CORS on the authorization endpoint and
the pages; no issued code or token in full on a page); RFC 6749 section 10.13
(clickjacking); RFC 9700 sections 4.2.4 and 4.16 (Referer leaks, clickjacking); RFC 6749
section 5.1 / RFC 9700 (responses carrying credentials are not cached).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import httpx
import pytest

from tests.support import PASSWORD, World, authorize_url, consent, forms, fragment_of, query_of, sign_in

pytestmark = pytest.mark.anyio

EVIL_ORIGIN = "https://evil.example"

Page = Callable[[httpx.AsyncClient, World, object], Awaitable[httpx.Response]]


async def _login_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get("/access/login")


async def _login_failed(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    page = await http.get("/access/login")
    form = forms(page.text)[-1]
    return await http.post(form.action, data=dict(form.fields, email=world.user.email, password="wrong password"))


async def _login_csrf_refused(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.post("/access/login", data={"email": world.user.email, "password": PASSWORD})


async def _consent_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    await sign_in(http, world.user.email)
    return await http.get(authorize_url(world.web))


async def _consent_csrf_refused(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    page = await _consent_page(http, world, app)
    form = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
    fields = {k: v for k, v in form.fields.items() if k != "authenticity_token"}
    return await http.post(form.action, data=dict(fields, decision="allow"))


async def _unknown_client_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get("/oauth/authorizations/new?response_type=code&client_id=nope")


async def _bad_redirect_uri_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get(authorize_url(world.web, redirect_uri="https://evil.example/cb"))


async def _signed_out_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    await sign_in(http, world.user.email)
    return await http.get("/access/logout")


async def _select_account_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    await sign_in(http, world.user.email)
    return await http.get("/access/login?select_account=1&return_to=/")


async def _form_post_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web, response_mode="form_post"))
    return await consent(http, page)


async def _no_such_account_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://no-such-account-zz.localhost") as other:
        return await other.get("/access/login", headers={"Accept": "text/html"})


async def _chooser_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as platform:
        return await platform.get("/oauth/authorizations/new?response_type=code&client_id=not-global")


async def _chooser_cancel_refused(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as platform:
        return await platform.post("/oauth/authorizations", data={"client_id": "not-global", "decision": "cancel"})


async def _forgot_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get("/access/password/forgot")


async def _reset_link_unusable_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get("/access/password/reset?token=not-a-token")


async def _reset_done_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    return await http.get("/access/password/reset/done")


async def _revoke_confirmation_page(http: httpx.AsyncClient, world: World, app: object) -> httpx.Response:
    await sign_in(http, world.user.email)
    await consent(http, await http.get(authorize_url(world.web)))
    return await http.get(f"/access/apps/revoke?client_id={world.web.client.id}")


PAGES: dict[str, tuple[Page, int]] = {
    "login": (_login_page, 200),
    "login-failed": (_login_failed, 401),
    "login-csrf-refused": (_login_csrf_refused, 403),
    "select-account": (_select_account_page, 200),
    "consent": (_consent_page, 200),
    "consent-csrf-refused": (_consent_csrf_refused, 403),
    "error-unknown-client": (_unknown_client_page, 400),
    "error-redirect-uri": (_bad_redirect_uri_page, 400),
    "signed-out": (_signed_out_page, 200),
    "form-post": (_form_post_page, 200),
    "no-such-account": (_no_such_account_page, 404),
    "platform-error": (_chooser_page, 400),
    "platform-cancel-refused": (_chooser_cancel_refused, 400),
    "password-forgot": (_forgot_page, 200),
    "password-reset-unusable": (_reset_link_unusable_page, 400),
    "password-reset-done": (_reset_done_page, 200),
    "revoke-confirmation": (_revoke_confirmation_page, 200),
}


@pytest.mark.parametrize("name", list(PAGES))
async def test_page_cannot_be_framed_leaks_no_referer_and_is_not_cached(
    http: httpx.AsyncClient, world: World, app: object, name: str
) -> None:
    """INTERFACE.md section 5; RFC 6749 section 10.13 (clickjacking)."""
    produce, status = PAGES[name]
    response = await produce(http, world, app)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    directives = [d.strip() for d in response.headers["content-security-policy"].split(";")]
    assert "frame-ancestors 'none'" in directives
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in [v.strip() for v in response.headers["cache-control"].split(",")]


async def test_redirect_carrying_a_code_is_not_cached_and_leaks_no_referer(
    http: httpx.AsyncClient, world: World
) -> None:
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web))
    allowed = await consent(http, page)
    assert "code" in query_of(allowed.headers["location"])
    again = await http.get(authorize_url(world.web))
    assert "code" in query_of(again.headers["location"])
    for response in (allowed, again):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"


XSS = '"><script>alert(1)</script>'


async def test_reflected_values_are_escaped_on_the_pages(http: httpx.AsyncClient, world: World) -> None:
    """The state, login_hint, client_id and redirect_uri a request carries come back on pages
    as text, never as markup."""
    to_login = await http.get(authorize_url(world.web, login_hint=XSS))
    login = await http.get(to_login.headers["location"])
    await sign_in(http, world.user.email)
    pages = [
        login,
        await http.get(authorize_url(world.web, state=XSS)),  # the consent page's hidden fields
        await http.get("/oauth/authorizations/new?" + urlencode({"client_id": XSS})),
        await http.get(authorize_url(world.web, redirect_uri="https://evil.example/" + XSS)),
    ]
    for page in pages:
        assert page.status_code in (200, 400), page.text
        assert "<script>" not in page.text, page.request.url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, page.request.url


# -- No CORS on the authorization endpoint and the pages (INTERFACE.md section 5) ----------------


def assert_no_cors(response: httpx.Response) -> None:
    leaked = sorted(h for h in response.headers if h.lower().startswith("access-control-"))
    assert leaked == [], (response.request.method, response.request.url, leaked)


async def test_authorization_endpoint_and_pages_send_no_cors_headers(http: httpx.AsyncClient, world: World) -> None:
    origin = {"Origin": EVIL_ORIGIN}
    assert_no_cors(await http.get(authorize_url(world.web), headers=origin))  # redirect to login
    assert_no_cors(await http.get("/oauth/authorizations/new?client_id=nope", headers=origin))  # error page
    login = await http.get("/access/login", headers=origin)
    assert_no_cors(login)
    form = forms(login.text)[-1]
    signed = await http.post(
        form.action, data=dict(form.fields, email=world.user.email, password=PASSWORD), headers=origin
    )
    assert signed.status_code == 303
    assert_no_cors(signed)
    page = await http.get(authorize_url(world.web), headers=origin)
    assert page.status_code == 200
    assert_no_cors(page)
    decision = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
    allowed = await http.post(decision.action, data=dict(decision.fields, decision="allow"), headers=origin)
    assert allowed.status_code in (302, 303)
    assert_no_cors(allowed)
    assert_no_cors(await http.get(authorize_url(world.web), headers=origin))  # the code, straight away
    assert_no_cors(await http.get("/", headers=origin))
    assert_no_cors(await http.get("/access/logout", headers=origin))


async def test_preflight_to_the_authorization_endpoint_is_not_allowed(http: httpx.AsyncClient, world: World) -> None:
    for path in ("/oauth/authorizations/new", "/oauth/authorizations", "/access/login"):
        response = await http.options(path, headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "POST"})
        assert response.status_code >= 400, path
        assert_no_cors(response)


async def test_the_token_endpoint_does_allow_cors_for_contrast(http: httpx.AsyncClient, world: World) -> None:
    """The same probe finds CORS where INTERFACE.md section 5 allows it, so its silence above
    means something."""
    response = await http.post(
        "/oauth/tokens", data={"grant_type": "client_credentials"}, headers={"Origin": EVIL_ORIGIN}
    )
    assert response.headers["access-control-allow-origin"] == "*"


# -- No issued code or token on a page (INTERFACE.md section 5) -----------------------------------


async def test_issued_codes_and_tokens_never_appear_on_a_page(http: httpx.AsyncClient, world: World) -> None:
    """Every HTML page a user sees around a flow, after a code and an implicit token were
    issued, is searched for them (the form_post response, which is the delivery, aside)."""
    await sign_in(http, world.user.email)
    code = query_of((await consent(http, await http.get(authorize_url(world.web, state="c")))).headers["location"])[
        "code"
    ]
    implicit = await consent(http, await http.get(authorize_url(world.legacy, response_type="token")))
    token = fragment_of(implicit.headers["location"])["access_token"]
    exchanged = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": world.web.redirect_uri},
    )
    assert exchanged.status_code == 200, exchanged.text
    access, refresh = exchanged.json()["access_token"], exchanged.json()["refresh_token"]
    pages = [
        await http.get("/"),
        await http.get("/access/apps"),
        await http.get("/access/login"),
        await http.get("/access/login?select_account=1"),
        await http.get(authorize_url(world.web, prompt="consent")),
        await http.get(authorize_url(world.spa)),  # redirected error: PKCE missing
        await http.get("/oauth/authorizations/new?client_id=nope"),
        await http.get(authorize_url(world.web, redirect_uri="https://evil.example/cb")),
        await http.post("/oauth/authorizations", data={"client_id": world.web.client_id, "decision": "allow"}),
        await http.get("/access/logout"),
    ]
    secrets = {"code": code, "implicit token": token, "access token": access, "refresh token": refresh}
    for page in pages:
        for what, value in secrets.items():
            assert value not in page.text, (what, page.request.url)
            assert value not in page.headers.get("location", ""), (what, page.request.url)
    assert pages[1].status_code == 200
    assert "Web App" in pages[1].text  # the authorized-apps page does list the client it issued to
