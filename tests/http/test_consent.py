"""The consent page and its POST /oauth/authorizations: RFC 6749 sections 4.1.2 and 4.1.2.1
(access_denied), RFC 9207 (iss), RFC 6749 section 10.12 (CSRF), INTERFACE.md sections 4
("Authorization endpoint") and 5 (the consent form carries a CSRF token).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest

from tests.support import World, authorize_url, consent, forms, fragment_of, query_of, sign_in, unisolated

pytestmark = pytest.mark.anyio

DECIDE = "/oauth/authorizations"


async def consent_page(http: httpx.AsyncClient, world: World, **params: str) -> httpx.Response:
    signed = await sign_in(http, world.user.email)
    assert signed.status_code == 303, signed.text
    page = await http.get(authorize_url(world.web, **params))
    assert page.status_code == 200, page.text
    return page


def consent_form_fields(page: httpx.Response) -> dict[str, str]:
    form = next(f for f in forms(page.text) if f.action == DECIDE)
    assert form.method == "post"
    return dict(form.fields)


class _BrowserForm(HTMLParser):
    """The consent form's controls in document order, as a browser submits them (HTML
    section 4.10.21.4): every named input, then the button that was clicked."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.pairs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == DECIDE
        elif tag == "input" and self.inside and a.get("name"):
            self.pairs.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


async def click(http: httpx.AsyncClient, page: httpx.Response, button: str) -> httpx.Response:
    form = _BrowserForm()
    form.feed(page.text)
    body = urlencode([*form.pairs, ("decision", button)])
    return await http.post(DECIDE, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})


async def assert_nothing_granted(http: httpx.AsyncClient, world: World) -> None:
    """No grant was remembered: prompt=none still says consent_required (OIDC Core 3.1.2.6)."""
    probe = await http.get(authorize_url(world.web, prompt="none"))
    assert probe.status_code == 302
    assert query_of(probe.headers["location"])["error"] == "consent_required"


async def test_consent_page_names_client_company_and_scopes_in_plain_words(
    http: httpx.AsyncClient, world: World
) -> None:
    page = await consent_page(http, world, scope="read tickets:write")
    # Names are isolated (<bdi>): a direction mark in one cannot reorder the sentence around it.
    assert (
        f"<h1>Allow <bdi>Web App</bdi> to access your <bdi>Account {world.subdomain}</bdi> account?</h1>" in page.text
    )
    assert "Web App is made by Example Inc." in unisolated(page.text)
    assert "<li>Read everything in your account</li>" in page.text
    assert "<li>Create, change and delete tickets</li>" in page.text
    assert "you will be sent to <strong>app.example.com</strong>." in unisolated(page.text)
    assert "Signed in as <strong>user@example.com</strong>." in unisolated(page.text)
    assert "Not you? Switch account</a>" in page.text


async def test_consent_form_has_allow_and_deny(http: httpx.AsyncClient, world: World) -> None:
    page = await consent_page(http, world)
    assert 'name="decision" value="deny"' in page.text
    assert 'name="decision" value="allow"' in page.text


async def test_allow_redirects_with_code_state_and_iss_rfc9207(http: httpx.AsyncClient, world: World) -> None:
    page = await consent_page(http, world, state="allow-1")
    response = await consent(http, page, "allow")
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("https://app.example.com/callback?")
    params = query_of(location)
    assert set(params) == {"code", "state", "iss"}
    assert params["code"].startswith("tsc_")
    assert params["state"] == "allow-1"
    assert params["iss"] == world.origin


async def test_deny_redirects_with_access_denied_state_and_iss_rfc6749_4_1_2_1(
    http: httpx.AsyncClient, world: World
) -> None:
    page = await consent_page(http, world, state="deny-1")
    response = await consent(http, page, "deny")
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("https://app.example.com/callback?")
    params = query_of(location)
    assert params["error"] == "access_denied"
    assert params["state"] == "deny-1"
    assert params["iss"] == world.origin
    assert "code" not in params
    await assert_nothing_granted(http, world)


async def test_deny_of_an_implicit_request_goes_in_the_fragment_rfc6749_4_2_2_1(
    http: httpx.AsyncClient, world: World
) -> None:
    assert (await sign_in(http, world.user.email)).status_code == 303
    page = await http.get(authorize_url(world.legacy, response_type="token", state="deny-2"))
    response = await consent(http, page, "deny")
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("https://legacy.example.com/cb#")
    params = fragment_of(location)
    assert params == {
        "error": "access_denied",
        "error_description": "the user denied the request",
        "state": "deny-2",
        "iss": world.origin,
    }


async def test_deny_cannot_be_overridden_by_a_decision_parameter_in_the_request(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 4.1.2.1 (access_denied) and section 10.12: the client may add any
    parameter to its request (section 3.1 says unknown ones are ignored), so a request
    carrying decision=allow must not turn the user's Deny into an Allow."""
    page = await consent_page(http, world, state="sneaky", decision="allow")
    response = await click(http, page, "deny")
    assert response.status_code in (302, 303)
    params = query_of(response.headers["location"])
    assert params["error"] == "access_denied"
    assert "code" not in params
    await assert_nothing_granted(http, world)


async def test_clicking_allow_in_a_browser_grants(http: httpx.AsyncClient, world: World) -> None:
    """The same browser-faithful submission, for contrast: Allow gives a code."""
    page = await consent_page(http, world, state="b")
    response = await click(http, page, "allow")
    params = query_of(response.headers["location"])
    assert params["code"].startswith("tsc_")
    assert params["state"] == "b"


async def test_clicking_deny_in_a_browser_denies(http: httpx.AsyncClient, world: World) -> None:
    page = await consent_page(http, world, state="b")
    response = await click(http, page, "deny")
    params = query_of(response.headers["location"])
    assert params["error"] == "access_denied"
    await assert_nothing_granted(http, world)


async def test_post_without_authenticity_token_is_refused_and_issues_nothing(
    http: httpx.AsyncClient, world: World
) -> None:
    fields = consent_form_fields(await consent_page(http, world, state="csrf"))
    del fields["authenticity_token"]
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code == 403
    assert "location" not in response.headers
    assert "tsc_" not in response.text
    await assert_nothing_granted(http, world)


async def test_post_with_a_wrong_authenticity_token_is_refused_and_issues_nothing(
    http: httpx.AsyncClient, world: World
) -> None:
    fields = consent_form_fields(await consent_page(http, world, state="csrf"))
    real = fields["authenticity_token"]
    forged = ("0" if real[0] != "0" else "1") + real[1:]
    response = await http.post(DECIDE, data=dict(fields, authenticity_token=forged, decision="allow"))
    assert response.status_code == 403
    assert "location" not in response.headers
    await assert_nothing_granted(http, world)


async def test_authenticity_token_of_another_session_is_refused(
    http: httpx.AsyncClient, world: World, app: object
) -> None:
    """The token binds to the session: a token an attacker got from their own session does
    not work in the victim's (RFC 6749 section 10.12)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as attacker:
        attackers_fields = consent_form_fields(await consent_page(attacker, world))
    await consent_page(http, world)
    response = await http.post(DECIDE, data=dict(attackers_fields, decision="allow"))
    assert response.status_code == 403
    assert "location" not in response.headers
    await assert_nothing_granted(http, world)


async def test_consent_form_dies_when_another_user_signs_in(http: httpx.AsyncClient, world: World) -> None:
    """The form was shown to user@; after admin@ signs in in the same browser it must not
    grant anything on admin's behalf (the token bound to the replaced session)."""
    fields = consent_form_fields(await consent_page(http, world))
    assert (await sign_in(http, world.admin.email)).status_code == 303
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code == 403
    assert "location" not in response.headers


async def test_tampered_redirect_uri_is_caught_by_revalidation(http: httpx.AsyncClient, world: World) -> None:
    """RFC 6749 section 4.1.2.1: the hidden fields are the client's request again, and are
    checked again; a changed redirect_uri is a page, never a redirect."""
    fields = consent_form_fields(await consent_page(http, world, state="t"))
    fields["redirect_uri"] = "https://attacker.example/steal"
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "https://attacker.example/steal" in response.text
    assert "https://app.example.com/callback" in response.text
    assert "tsc_" not in response.text
    await assert_nothing_granted(http, world)


async def test_tampered_scope_is_caught_by_revalidation(http: httpx.AsyncClient, world: World) -> None:
    fields = consent_form_fields(await consent_page(http, world, state="t"))
    fields["scope"] = "read no-such-scope"
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code in (302, 303)
    params = query_of(response.headers["location"])
    assert params["error"] == "invalid_scope"
    assert "code" not in params
    await assert_nothing_granted(http, world)


async def test_tampered_client_id_is_caught_by_revalidation(http: httpx.AsyncClient, world: World) -> None:
    fields = consent_form_fields(await consent_page(http, world))
    fields["client_id"] = "no-such-client"
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "no-such-client" in response.text


async def test_consent_post_after_the_session_ended_goes_to_login(http: httpx.AsyncClient, world: World) -> None:
    fields = consent_form_fields(await consent_page(http, world, state="late"))
    logged_out = await http.get("/access/logout")
    assert logged_out.status_code == 200
    response = await http.post(DECIDE, data=dict(fields, decision="allow"))
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith("/access/login?")
    back = query_of(location)["return_to"]
    assert back.startswith("/oauth/authorizations/new?")
    original = query_of(back)
    assert original["client_id"] == world.web.client_id
    assert original["state"] == "late"
    assert "authenticity_token" not in original
    assert "decision" not in original
