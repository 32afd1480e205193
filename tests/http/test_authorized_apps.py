"""The "Authorized apps" page, GET /access/apps and POST /access/apps/revoke.

RFC 6749 section 10.3 (a user may revoke access), RFC 7009 section 2.1 (revoking the grant
invalidates the tokens based on it), INTERFACE.md section 5 (page headers, CSRF token on
forms). The clock is frozen, so "last used" is exact.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import (
    Clock,
    Form,
    RegisteredClient,
    World,
    add_client,
    authorize_url,
    code_tokens,
    forms,
    obtain_code,
    pkce_pair,
    sign_in,
    token_request,
    unisolated,
)

pytestmark = pytest.mark.anyio

PAGE = "/access/apps"


class FrozenClock(Clock):
    """Time that moves only when the test advances it."""

    def __init__(self) -> None:
        super().__init__()
        self.start = float(int(time.time()))

    def __call__(self) -> float:
        return self.start + self.offset


@pytest.fixture
def clock() -> Clock:
    return FrozenClock()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _me(http: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access_token}"})


async def _refresh(http: httpx.AsyncClient, client: RegisteredClient, refresh_token: str) -> httpx.Response:
    return await http.post(
        "/oauth/tokens", auth=client.basic(), data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def _app_section(html: str, name: str) -> str:
    """The <article> of the page that shows the named client."""
    for chunk in html.split('<article class="app">')[1:]:
        section = chunk.split("</article>")[0]
        if f"<h2>{name}</h2>" in section:
            return section
    raise AssertionError(f"{name} is not listed")


async def _revoke_form(http: httpx.AsyncClient, client: RegisteredClient) -> Form:
    """The form of the page that asks to confirm, reached by the list's Revoke link."""
    listed = await http.get(PAGE)
    link = f'href="/access/apps/revoke?client_id={client.client.id}"'
    assert link in listed.text, listed.text
    confirm = await http.get(f"{PAGE}/revoke", params={"client_id": str(client.client.id)})
    assert confirm.status_code == 200, confirm.text
    return next(
        f
        for f in forms(confirm.text)
        if f.action == "/access/apps/revoke" and f.fields["client_id"] == str(client.client.id)
    )


async def _consent_is_asked(http: httpx.AsyncClient, client: RegisteredClient) -> bool:
    """Whether authorizing again shows the consent page (200) rather than redirecting at once (302)."""
    _, challenge = pkce_pair()
    response = await http.get(authorize_url(client, code_challenge=challenge, code_challenge_method="S256"))
    assert response.status_code in (200, 302), response.text
    if response.status_code == 200:
        assert any(f.action == "/oauth/authorizations" for f in forms(response.text))
    return response.status_code == 200


# --- Who may see the page ---------------------------------------------------------------------


async def test_the_page_needs_a_signed_in_user(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(PAGE)
    assert response.status_code == 302
    assert response.headers["location"] == "/access/login?return_to=%2Faccess%2Fapps"
    signed_in = await sign_in(http, world.user.email, return_to=PAGE)
    assert signed_in.status_code in (302, 303)
    assert signed_in.headers["location"].endswith(PAGE)
    assert (await http.get(PAGE)).status_code == 200


async def test_revoking_needs_a_signed_in_user(app, http: httpx.AsyncClient, world: World) -> None:  # type: ignore[no-untyped-def]
    tokens = await code_tokens(http, world.web, world.user.email)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as stranger:
        response = await stranger.post(f"{PAGE}/revoke", data={"client_id": str(world.web.client.id)})
    assert response.status_code == 302
    assert response.headers["location"].startswith("/access/login")
    assert (await _me(http, tokens["access_token"])).status_code == 200


# --- What the page shows -----------------------------------------------------------------------


async def test_the_page_lists_each_granted_client_with_its_scopes_and_last_use(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    granted_at = clock()
    web = await code_tokens(http, world.web, world.user.email, scope="read write")
    await code_tokens(http, world.spa, world.user.email, scope="tickets:read")
    clock.advance(90)
    assert (await _me(http, web["access_token"])).status_code == 200  # used 90 s after the grant

    page = await http.get(PAGE)
    assert page.status_code == 200
    web_section = _app_section(page.text, "Web App")
    assert "<li>Read everything in your account</li>" in web_section
    assert "<li>Create, change and delete everything in your account</li>" in web_section
    assert "by Example Inc" in unisolated(web_section)
    assert f'<dt>Allowed</dt><dd><time datetime="{_iso(granted_at)}"' in web_section
    assert f'<dt>Last used</dt><dd><time datetime="{_iso(granted_at + 90)}"' in web_section
    assert ">2 minutes ago</time>" in web_section or ">1 minute ago</time>" in web_section
    spa_section = _app_section(page.text, "Single Page App")
    assert "<li>Read tickets</li>" in spa_section
    assert "<dt>Last used</dt><dd>Never</dd>" in spa_section
    assert "Machine" not in page.text
    assert "Legacy" not in page.text
    form = await _revoke_form(http, world.web)
    assert form.method == "post"
    assert form.fields["authenticity_token"]


async def test_the_page_shows_only_the_signed_in_users_apps(http: httpx.AsyncClient, world: World) -> None:
    await code_tokens(http, world.spa, world.admin.email)
    await code_tokens(http, world.web, world.user.email)
    page = await http.get(PAGE)
    assert "<h2>Web App</h2>" in page.text
    assert "<h2>Single Page App</h2>" not in page.text


async def test_a_user_without_apps_is_told_so(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    page = await http.get(PAGE)
    assert page.status_code == 200
    assert "You have not authorized any app." in page.text


async def test_the_page_carries_the_page_security_headers(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md section 5: no framing, no Referer, no caching, no CORS on HTML pages."""
    await sign_in(http, world.user.email)
    page = await http.get(PAGE, headers={"Origin": "https://evil.example"})
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in page.headers


# --- Revoke -------------------------------------------------------------------------------------


async def test_revoke_withdraws_the_grant_and_revokes_the_users_tokens_for_that_client(
    http: httpx.AsyncClient, world: World
) -> None:
    admins = await code_tokens(http, world.web, world.admin.email)
    mine = await code_tokens(http, world.web, world.user.email)
    second = await code_tokens(http, world.web, world.user.email)
    spa = await code_tokens(http, world.spa, world.user.email)
    assert not await _consent_is_asked(http, world.web)

    form = await _revoke_form(http, world.web)
    response = await http.post(form.action, data=form.fields)
    assert response.status_code == 303
    assert response.headers["location"] == f"/access/apps?revoked={world.web.client.id}"
    shown = await http.get(response.headers["location"])
    assert "Web App no longer has access. Its tokens were revoked." in unisolated(shown.text)

    for tokens in (mine, second):
        refused = await _me(http, tokens["access_token"])
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        refresh = await _refresh(http, world.web, tokens["refresh_token"])
        assert refresh.status_code == 400
        assert refresh.json()["error"] == "invalid_grant"
    # another user's tokens for the same client, and this user's other apps, are untouched
    assert (await _me(http, admins["access_token"])).status_code == 200
    assert (await _refresh(http, world.web, admins["refresh_token"])).status_code == 200
    assert (await _me(http, spa["access_token"])).status_code == 200

    after = await http.get(response.headers["location"])
    assert "Web App no longer has access. Its tokens were revoked." in unisolated(after.text)
    assert "<h2>Web App</h2>" not in after.text
    assert "<h2>Single Page App</h2>" in after.text
    # the consent is gone: the next authorization asks again
    assert await _consent_is_asked(http, world.web)


async def test_revoke_also_voids_a_code_not_yet_redeemed(http: httpx.AsyncClient, world: World) -> None:
    """A code issued just before the user withdrew consent buys no tokens after it: the
    withdrawal deletes the client's unredeemed codes for the user, as it revokes tokens."""
    verifier, challenge = pkce_pair()
    code = await obtain_code(http, world.web, world.user.email, code_challenge=challenge, code_challenge_method="S256")
    form = await _revoke_form(http, world.web)
    assert (await http.post(form.action, data=form.fields)).status_code == 303

    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": world.web.redirect_uri,
        "code_verifier": verifier,
    }
    refused = await token_request(http, world.web, data)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"


async def test_revoke_without_the_authenticity_token_is_refused(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    form = await _revoke_form(http, world.web)
    for data in (
        {"client_id": form.fields["client_id"]},
        {"client_id": form.fields["client_id"], "authenticity_token": "0" * 64},
    ):
        response = await http.post(form.action, data=data)
        assert response.status_code == 403
        assert response.headers["x-frame-options"] == "DENY"
    assert (await _me(http, tokens["access_token"])).status_code == 200
    assert "<h2>Web App</h2>" in (await http.get(PAGE)).text
    assert not await _consent_is_asked(http, world.web)


async def test_an_authenticity_token_of_another_session_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """The token binds to the session: one read from another signed-in browser does not work."""
    await sign_in(http, world.admin.email)
    admins_token = (await http.get("/api/v2/users/me")).json()["user"]["authenticity_token"]
    tokens = await code_tokens(http, world.web, world.user.email)  # now signed in as the user
    response = await http.post(
        f"{PAGE}/revoke", data={"client_id": str(world.web.client.id), "authenticity_token": admins_token}
    )
    assert response.status_code == 403
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_revoking_an_unknown_app_changes_nothing(http: httpx.AsyncClient, world: World) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    form = await _revoke_form(http, world.web)
    response = await http.post(form.action, data={**form.fields, "client_id": "999999999"})
    assert response.status_code == 404
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_a_global_client_is_listed_and_revoked_like_any_other(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """A platform (global) client the user authorized on this account shows up and can be revoked."""
    platform = await add_client(
        stores, None, clock(), name="Platform App", redirect_uris=("https://platform.example.com/cb",)
    )
    tokens = await code_tokens(http, platform, world.user.email)
    page = await http.get(PAGE)
    assert "<li>Read everything in your account</li>" in _app_section(page.text, "Platform App")
    form = await _revoke_form(http, platform)
    response = await http.post(form.action, data=form.fields)
    assert response.status_code == 303
    assert (await _me(http, tokens["access_token"])).status_code == 401
    assert "<h2>Platform App</h2>" not in (await http.get(PAGE)).text


async def test_the_revoked_banner_never_repeats_text_from_the_url(http: httpx.AsyncClient, world: World) -> None:
    """The banner names a client only when it is a real client the user no longer grants."""
    await code_tokens(http, world.web, world.user.email)
    await sign_in(http, world.user.email)
    spoofed = await http.get(PAGE, params={"revoked": "Your bank"})
    assert "no longer has access" not in spoofed.text
    still_granted = await http.get(PAGE, params={"revoked": str(world.web.client.id)})
    assert "no longer has access" not in still_granted.text


# --- Dates and the confirmation ----------------------------------------------------------------


async def test_dates_are_shown_in_the_readers_locale_relative_and_absolute(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    granted_at = clock()
    await code_tokens(http, world.web, world.user.email)
    clock.advance(5 * 3600)  # within the session's idle timeout
    english = _app_section((await http.get(PAGE, headers={"Accept-Language": "en-GB,en;q=0.8"})).text, "Web App")
    day = datetime.fromtimestamp(granted_at, UTC)
    assert ">5 hours ago</time>" in english
    assert f"({day.day} {day:%b} {day.year}, {day:%H:%M} UTC)" in english
    german = _app_section((await http.get(PAGE, headers={"Accept-Language": "de-DE;q=0.9, xx"})).text, "Web App")
    assert ">vor 5 Stunden</time>" in german
    nonsense = _app_section((await http.get(PAGE, headers={"Accept-Language": "!!;q=x, *"})).text, "Web App")
    assert ">5 hours ago</time>" in nonsense


async def test_revoke_asks_to_confirm_first_and_the_list_revokes_nothing_itself(
    http: httpx.AsyncClient, world: World
) -> None:
    tokens = await code_tokens(http, world.web, world.user.email)
    listed = await http.get(PAGE)
    assert not [f for f in forms(listed.text) if f.action == "/access/apps/revoke"]
    confirm = await http.get(f"{PAGE}/revoke", params={"client_id": str(world.web.client.id)})
    assert confirm.status_code == 200
    assert "Revoke access for Web App?" in unisolated(confirm.text)
    assert 'href="/access/apps">Cancel</a>' in confirm.text
    # Looking at the confirmation revoked nothing.
    assert (await _me(http, tokens["access_token"])).status_code == 200


async def test_the_confirmation_of_an_app_not_authorized_says_so(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    for client_id in (str(world.machine.client.id), "abc", "999999999999"):
        page = await http.get(f"{PAGE}/revoke", params={"client_id": client_id})
        assert page.status_code == 404 and "This app is not authorized" in page.text
        assert 'href="/access/apps"' in page.text
