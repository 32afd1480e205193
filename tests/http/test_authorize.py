"""The authorization endpoint, GET /oauth/authorizations/new: RFC 6749 sections 3.1, 3.1.2,
4.1.1-4.1.2.1, 4.2.1-4.2.2.1; RFC 7636 section 4.3; RFC 8252 section 7.3; RFC 9207;
OIDC Core 3.1.2.1 (prompt, max_age, login_hint); OAuth 2.0 Form Post Response Mode;
INTERFACE.md section 4 "Authorization endpoint".
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tessera.storage.stores import Stores
from tessera.web.endpoints.authorize_answers import MAX_LOGIN_URL
from tests.support import (
    PASSWORD,
    Clock,
    RegisteredClient,
    World,
    add_client,
    authorize_url,
    consent,
    forms,
    fragment_of,
    pkce_pair,
    query_of,
    sign_in,
    unisolated,
)

pytestmark = pytest.mark.anyio

AUTHORIZE = "/oauth/authorizations/new"
# A well-formed S256 challenge (43 base64url characters): RFC 7636 appendix B.
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGUSauw-cM"


def assert_page_error(response: httpx.Response) -> str:
    """RFC 6749 section 4.1.2.1: shown to the user, never redirected."""
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def redirect_query(response: httpx.Response, redirect_uri: str) -> dict[str, str]:
    """The query of a 302 to `redirect_uri` (a GET is answered with 302)."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    assert urlsplit(location).fragment == ""
    return query_of(location)


def redirect_fragment(response: httpx.Response, redirect_uri: str) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(redirect_uri + "#"), location
    assert urlsplit(location).query == ""
    return fragment_of(location)


def login_redirect(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert urlsplit(location).path == "/access/login", location
    return location


async def signed_in(http: httpx.AsyncClient, world: World) -> None:
    response = await sign_in(http, world.user.email)
    assert response.status_code == 303, response.text


async def grant(http: httpx.AsyncClient, client: RegisteredClient, scope: str = "read", **params: str) -> None:
    """Consent once (the browser is already signed in), so the grant is remembered."""
    page = await http.get(authorize_url(client, scope=scope, **params))
    assert page.status_code == 200, page.text
    allowed = await consent(http, page)
    assert allowed.status_code in (302, 303), allowed.text
    assert "code" in query_of(allowed.headers["location"])


async def submit_login(http: httpx.AsyncClient, login_location: str, email: str) -> httpx.Response:
    """Follow the redirect to the login page and submit its sign-in form."""
    page = await http.get(login_location)
    assert page.status_code == 200, page.text
    form = forms(page.text)[-1]
    assert form.action == "/access/login"
    return await http.post(form.action, data=dict(form.fields, email=email, password=PASSWORD))


# -- Steps 1 and 2: the client and its redirect URI, answered on a page -------------------------


async def test_unknown_client_id_is_a_page_naming_it_rfc6749_4_1_2_1(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(
        AUTHORIZE + "?" + urlencode({"response_type": "code", "client_id": "no-such-app", "scope": "read"})
    )
    text = assert_page_error(response)
    assert "Unknown client" in text
    assert "no-such-app" in text


async def test_numeric_client_id_page_names_the_identifier_to_send(http: httpx.AsyncClient, world: World) -> None:
    """INTERFACE.md "Lessons from the field": the numeric id is the common mistake."""
    numeric = str(world.web.client.id)
    response = await http.get(authorize_url(world.web, client_id=numeric))
    text = assert_page_error(response)
    assert f"client_id {numeric} is the numeric id of the client" in text
    assert f"Send its identifier, &#39;web-{world.subdomain}&#39;, as client_id instead." in text


async def test_repeated_client_id_is_a_page_not_a_redirect_rfc6749_3_1(http: httpx.AsyncClient, world: World) -> None:
    query = urlencode(
        [
            ("response_type", "code"),
            ("client_id", world.web.client_id),
            ("client_id", world.legacy.client_id),
            ("redirect_uri", world.web.redirect_uri),
        ]
    )
    text = assert_page_error(await http.get(f"{AUTHORIZE}?{query}"))
    assert "client_id parameter was sent more than once" in text


async def test_unregistered_redirect_uri_is_a_page_listing_the_registered_ones_before_login(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 4.1.2.1 and INTERFACE.md: no redirect, ever; checked before the login page
    (nobody is signed in here, yet the answer is the error page and not the login redirect)."""
    response = await http.get(authorize_url(world.web, redirect_uri="https://attacker.example/cb", state="s"))
    text = assert_page_error(response)
    assert "https://attacker.example/cb" in text
    assert "https://app.example.com/callback" in text
    assert "http://127.0.0.1/callback" in text
    assert "/access/login" not in text


async def test_redirect_uri_must_match_exactly_not_by_prefix_rfc9700_4_1_3(
    http: httpx.AsyncClient, world: World
) -> None:
    for sent in ("https://app.example.com/callback/extra", "https://app.example.com/callback?x=1"):
        text = assert_page_error(await http.get(authorize_url(world.web, redirect_uri=sent)))
        assert "is not registered" in text


async def test_omitted_redirect_uri_with_one_registered_uses_it_rfc6749_3_1_2_3(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    page = await http.get(
        AUTHORIZE + "?" + urlencode({"response_type": "code", "client_id": world.legacy.client_id, "scope": "read"})
    )
    assert page.status_code == 200, page.text
    allowed = await consent(http, page)
    assert allowed.status_code in (302, 303)
    assert allowed.headers["location"].startswith("https://legacy.example.com/cb?code=tsc_")


async def test_omitted_redirect_uri_with_several_registered_is_a_page(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(
        AUTHORIZE + "?" + urlencode({"response_type": "code", "client_id": world.web.client_id, "scope": "read"})
    )
    text = assert_page_error(response)
    assert "has several registered" in text
    assert "https://app.example.com/callback" in text
    assert "http://127.0.0.1/callback" in text


async def test_loopback_redirect_uri_may_use_any_port_rfc8252_7_3(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    response = await http.get(authorize_url(world.web, redirect_uri="http://127.0.0.1:53124/callback", state="lb"))
    params = redirect_query(response, "http://127.0.0.1:53124/callback")
    assert params["code"].startswith("tsc_")
    assert params["state"] == "lb"


async def test_loopback_port_variance_does_not_relax_the_path_or_other_hosts(
    http: httpx.AsyncClient, world: World
) -> None:
    for sent in ("http://127.0.0.1:53124/other", "https://app.example.com:8443/callback"):
        assert_page_error(await http.get(authorize_url(world.web, redirect_uri=sent)))


# -- Step 3 and 4: errors redirected to the client (RFC 6749 section 4.1.2.1, RFC 9207) ----------


async def test_unsupported_response_type_is_redirected_with_state_and_iss(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.get(authorize_url(world.web, response_type="code token_x", state="xyz"))
    params = redirect_query(response, "https://app.example.com/callback")
    assert params["error"] == "unsupported_response_type"
    assert "token_x" in params["error_description"]
    assert params["state"] == "xyz"
    assert params["iss"] == world.origin


@pytest.mark.parametrize("response_type", ["id_token", "token id_token", "code id_token", "code token"])
async def test_an_unsupported_response_type_with_tokens_is_answered_in_the_fragment(
    http: httpx.AsyncClient, world: World, response_type: str
) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices section 5, OIDC Core 3.2.2.6 and
    3.3.2.6: a response type with token or id_token defaults to the fragment, its errors too."""
    response = await http.get(authorize_url(world.web, response_type=response_type, state="frag"))
    params = redirect_fragment(response, "https://app.example.com/callback")
    assert params["error"] in ("unsupported_response_type", "unauthorized_client"), params
    assert params["state"] == "frag"


async def test_token_response_type_for_a_client_without_implicit_is_unauthorized_client_in_the_fragment(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 4.2.2.1: the implicit grant's errors go in the fragment."""
    response = await http.get(authorize_url(world.web, response_type="token", state="imp"))
    params = redirect_fragment(response, "https://app.example.com/callback")
    assert params["error"] == "unauthorized_client"
    assert "implicit" in params["error_description"]
    assert params["state"] == "imp"
    assert params["iss"] == world.origin


async def test_unknown_scope_is_invalid_scope_rfc6749_3_3(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(authorize_url(world.web, scope="read tickets:destroy", state="sc"))
    params = redirect_query(response, "https://app.example.com/callback")
    assert params["error"] == "invalid_scope"
    assert "tickets:destroy" in params["error_description"]
    assert params["state"] == "sc"
    assert params["iss"] == world.origin


async def test_openid_address_phone_is_authorized_oidc_core_5_4(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 5.4 and INTERFACE.md "Scopes": the standard address and phone scopes are
    accepted, described in plain words on the consent page, and the code is issued."""
    await sign_in(http, world.user.email)
    page = await http.get(authorize_url(world.web, scope="openid address phone", state="ap"))
    assert page.status_code == 200, page.headers.get("location")
    assert "See your postal address" in page.text
    assert "See your phone number" in page.text
    answer = await consent(http, page)
    assert answer.status_code == 303, answer.text  # after the consent POST
    params = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith("https://app.example.com/callback?")
    assert params["code"].startswith("tsc_")
    assert params["state"] == "ap"
    assert params["iss"] == world.origin


async def test_scope_outside_the_clients_allow_list_is_invalid_scope(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    narrow = await add_client(
        stores,
        world.account,
        clock(),
        name="Narrow",
        redirect_uris=("https://narrow.example.com/cb",),
        allowed_scopes=("tickets:read",),
    )
    refused = await http.get(authorize_url(narrow, scope="tickets:read write", state="n"))
    params = redirect_query(refused, "https://narrow.example.com/cb")
    assert params["error"] == "invalid_scope"
    assert "write" in params["error_description"]
    assert params["state"] == "n"
    assert params["iss"] == world.origin
    # Inside the allow-list the request is valid: nobody is signed in, so the login page.
    login_redirect(await http.get(authorize_url(narrow, scope="tickets:read")))


async def test_public_client_without_pkce_is_invalid_request_rfc7636_4_4_1(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await http.get(authorize_url(world.spa, state="p"))
    params = redirect_query(response, "http://127.0.0.1/callback")
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]
    assert params["state"] == "p"
    assert params["iss"] == world.origin
    _, challenge = pkce_pair()
    login_redirect(await http.get(authorize_url(world.spa, code_challenge=challenge, code_challenge_method="S256")))


@pytest.mark.parametrize("which", ["web", "spa"])
async def test_plain_pkce_is_refused_for_every_client_rfc9700_2_1_1(
    http: httpx.AsyncClient, world: World, which: str
) -> None:
    client: RegisteredClient = getattr(world, which)
    for method in ({"code_challenge_method": "plain"}, {}):  # no method means plain (RFC 7636 section 4.3)
        response = await http.get(authorize_url(client, code_challenge=CHALLENGE, state="pl", **method))
        params = redirect_query(response, client.redirect_uri)
        assert params["error"] == "invalid_request"
        assert "S256" in params["error_description"]
        assert params["state"] == "pl"
        assert params["iss"] == world.origin


async def test_repeated_parameter_is_invalid_request_rfc6749_3_1(http: httpx.AsyncClient, world: World) -> None:
    query = urlencode(
        [
            ("response_type", "code"),
            ("client_id", world.web.client_id),
            ("redirect_uri", world.web.redirect_uri),
            ("scope", "read"),
            ("scope", "write"),
            ("state", "rep"),
        ]
    )
    params = redirect_query(await http.get(f"{AUTHORIZE}?{query}"), "https://app.example.com/callback")
    assert params["error"] == "invalid_request"
    assert "'scope' was sent more than once" in params["error_description"]
    assert params["state"] == "rep"
    assert params["iss"] == world.origin


async def test_without_state_the_error_carries_no_state_rfc6749_4_1_2_1(http: httpx.AsyncClient, world: World) -> None:
    params = redirect_query(await http.get(authorize_url(world.web, response_type="code_x")), world.web.redirect_uri)
    assert set(params) == {"error", "error_description", "iss"}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"prompt": "sometimes"}, "prompt"),
        ({"prompt": "none login"}, "prompt=none"),
        ({"max_age": "soon"}, "max_age"),
        ({"response_mode": "web_message"}, "response_mode"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "code_challenge"),
    ],
)
async def test_malformed_oidc_and_pkce_parameters_are_invalid_request(
    http: httpx.AsyncClient, world: World, extra: dict[str, str], named: str
) -> None:
    params = redirect_query(await http.get(authorize_url(world.web, state="m", **extra)), world.web.redirect_uri)
    assert params["error"] == "invalid_request"
    assert named in params["error_description"]
    assert params["state"] == "m"
    assert params["iss"] == world.origin


async def test_query_response_mode_cannot_carry_an_implicit_token(http: httpx.AsyncClient, world: World) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices section 2.1."""
    response = await http.get(authorize_url(world.legacy, response_type="token", response_mode="query", state="q"))
    assert response.status_code == 302
    params = redirect_fragment(response, "https://legacy.example.com/cb")  # not the query it asked for
    assert params["error"] == "invalid_request"
    assert "access_token" not in response.headers["location"]


# -- Responses: code, implicit token, form_post ---------------------------------------------


async def test_implicit_grant_returns_the_token_in_the_fragment_rfc6749_4_2_2(
    http: httpx.AsyncClient, world: World
) -> None:
    """world.legacy has Zendesk's non-expiring tokens: no expires_in."""
    await signed_in(http, world)
    page = await http.get(authorize_url(world.legacy, response_type="token", scope="read", state="frag"))
    assert page.status_code == 200, page.text
    params = redirect_fragment(await consent(http, page), "https://legacy.example.com/cb")
    assert set(params) == {"access_token", "token_type", "scope", "state", "iss"}
    assert params["access_token"].startswith("tsa_")
    assert params["token_type"] == "bearer"
    assert params["scope"] == "read"
    assert params["state"] == "frag"
    assert params["iss"] == world.origin
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {params['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "user@example.com"


async def test_implicit_grant_of_an_expiring_client_carries_expires_in_and_no_refresh_token(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    spa = await add_client(
        stores,
        world.account,
        clock(),
        name="Implicit SPA",
        kind="public",
        grant_types=("implicit",),
        redirect_uris=("https://implicit.example.com/cb",),
    )
    await signed_in(http, world)
    page = await http.get(authorize_url(spa, response_type="token", state="e"))
    params = redirect_fragment(await consent(http, page), "https://implicit.example.com/cb")
    assert params["expires_in"] == "1800"
    assert "refresh_token" not in params  # RFC 6749 section 4.2.2
    assert params["iss"] == world.origin


async def test_form_post_response_mode_answers_with_an_auto_submitting_page(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    response = await http.get(authorize_url(world.web, response_mode="form_post", state="fp"))
    assert response.status_code == 200, response.text
    assert "location" not in response.headers
    (form,) = forms(response.text)
    assert form.method == "post"
    assert form.action == "https://app.example.com/callback"
    assert set(form.fields) == {"code", "state", "iss"}
    assert form.fields["code"].startswith("tsc_")
    assert form.fields["state"] == "fp"
    assert form.fields["iss"] == world.origin
    scripts = _ScriptNonces()
    scripts.feed(response.text)
    assert len(scripts.nonces) == 1
    assert f"script-src 'nonce-{scripts.nonces[0]}'" in response.headers["content-security-policy"]
    assert ".submit()" in response.text


class _ScriptNonces(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.nonces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.nonces.append(dict(attrs).get("nonce") or "")


# -- prompt, max_age, login_hint (OIDC Core 3.1.2.1) --------------------------------------------


async def test_prompt_none_signed_out_is_login_required(http: httpx.AsyncClient, world: World) -> None:
    params = redirect_query(
        await http.get(authorize_url(world.web, prompt="none", state="pn")), "https://app.example.com/callback"
    )
    assert params["error"] == "login_required"
    assert params["state"] == "pn"
    assert params["iss"] == world.origin


async def test_prompt_none_signed_in_without_grant_is_consent_required(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    params = redirect_query(
        await http.get(authorize_url(world.web, prompt="none", state="pc")), "https://app.example.com/callback"
    )
    assert params["error"] == "consent_required"
    assert params["state"] == "pc"
    assert params["iss"] == world.origin


async def test_prompt_none_with_a_grant_returns_the_code_without_any_page(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    params = redirect_query(
        await http.get(authorize_url(world.web, prompt="none", state="ok")), "https://app.example.com/callback"
    )
    assert set(params) == {"code", "state", "iss"}
    assert params["code"].startswith("tsc_")
    assert params["state"] == "ok"
    assert params["iss"] == world.origin


async def test_signed_out_goes_to_the_login_page_and_then_back(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get(authorize_url(world.web, state="back"))
    location = login_redirect(response)
    back = query_of(location)["return_to"]
    assert back.startswith(AUTHORIZE + "?")
    signed = await submit_login(http, location, world.user.email)
    assert signed.status_code in (302, 303)
    assert signed.headers["location"] == back
    page = await http.get(back)
    assert page.status_code == 200
    assert "Allow" in page.text


async def test_prompt_login_shows_the_login_page_when_signed_in_and_does_not_loop(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    before = http.cookies.get("tessera_session")
    location = login_redirect(await http.get(authorize_url(world.web, prompt="login", state="again")))
    back = query_of(location)["return_to"]
    assert "prompt" not in query_of(back)
    page = await http.get(location)
    assert "Sign in again to continue" in page.text
    signed = await submit_login(http, location, world.user.email)
    assert signed.status_code in (302, 303)
    assert signed.headers["location"] == back
    assert http.cookies.get("tessera_session") != before
    params = redirect_query(await http.get(back), "https://app.example.com/callback")
    assert params["code"].startswith("tsc_")
    assert params["state"] == "again"


async def test_max_age_exceeded_shows_the_login_page_oidc_3_1_2_1(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    clock.advance(120)
    location = login_redirect(await http.get(authorize_url(world.web, max_age="60", state="ma")))
    back = query_of(location)["return_to"]
    assert "max_age" not in query_of(back)
    signed = await submit_login(http, location, world.user.email)
    params = redirect_query(await http.get(signed.headers["location"]), "https://app.example.com/callback")
    assert params["state"] == "ma"


async def test_a_request_too_long_for_the_sign_in_page_is_returned_to_the_client(
    http: httpx.AsyncClient, world: World
) -> None:
    """RFC 6749 section 4.1.2.1: an invalid request is returned to a trusted redirect URI.
    A request whose way to the sign-in page (the request, encoded once more) would pass
    MAX_LOGIN_URL could never come back from it: the client hears why, and what to do."""
    long_state = "\u00e9" * 1500  # 9,000 bytes once percent-encoded, 15,000 once more
    response = await http.get(authorize_url(world.web, state=long_state))
    assert response.status_code == 302, response.text
    params = redirect_query(response, "https://app.example.com/callback")
    assert params["error"] == "invalid_request"
    assert str(MAX_LOGIN_URL) in params["error_description"] and "request_uri" in params["error_description"]
    assert params["state"] == long_state
    # A shorter one still goes to the sign-in page, whose way back fits.
    fits = login_redirect(await http.get(authorize_url(world.web, state="\u00e9" * 300)))
    assert len(fits) <= MAX_LOGIN_URL


async def test_max_age_not_exceeded_needs_no_login(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    clock.advance(120)
    params = redirect_query(
        await http.get(authorize_url(world.web, max_age="3600", state="fresh")), "https://app.example.com/callback"
    )
    assert params["code"].startswith("tsc_")


async def test_prompt_consent_shows_the_consent_page_even_when_granted(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    page = await http.get(authorize_url(world.web, prompt="consent"))
    assert page.status_code == 200
    assert any(f.action == "/oauth/authorizations" for f in forms(page.text))


async def test_remembered_grant_skips_consent_for_same_or_fewer_scopes_but_not_more(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    await grant(http, world.web, scope="read write")
    for scope in ("read write", "read", "tickets:read"):
        params = redirect_query(
            await http.get(authorize_url(world.web, scope=scope)), "https://app.example.com/callback"
        )
        assert params["code"].startswith("tsc_"), scope
    page = await http.get(authorize_url(world.web, scope="read impersonate"))
    assert page.status_code == 200
    assert any(f.action == "/oauth/authorizations" for f in forms(page.text))


async def test_prompt_select_account_offers_continue_as_and_continuing_works(
    http: httpx.AsyncClient, world: World
) -> None:
    await signed_in(http, world)
    await grant(http, world.web)
    location = login_redirect(await http.get(authorize_url(world.web, prompt="select_account", state="sa")))
    page = await http.get(location)
    assert page.status_code == 200
    assert "Continue as Eve User" in unisolated(page.text)
    choice = next(f for f in forms(page.text) if f.fields.get("action") == "continue")
    continued = await http.post(choice.action, data=choice.fields)
    assert continued.status_code in (302, 303)
    back = continued.headers["location"]
    assert "prompt" not in query_of(back)
    params = redirect_query(await http.get(back), "https://app.example.com/callback")
    assert params["state"] == "sa"
    assert params["code"].startswith("tsc_")


async def test_prompt_select_account_lets_another_user_sign_in(http: httpx.AsyncClient, world: World) -> None:
    await signed_in(http, world)
    location = login_redirect(await http.get(authorize_url(world.web, prompt="select_account")))
    signed = await submit_login(http, location, world.admin.email)
    assert signed.status_code in (302, 303)
    page = await http.get(signed.headers["location"])
    assert page.status_code == 200
    assert "Signed in as <strong>admin@example.com</strong>" in unisolated(page.text)


async def test_login_hint_prefills_the_email(http: httpx.AsyncClient, world: World) -> None:
    location = login_redirect(await http.get(authorize_url(world.web, login_hint="user@example.com")))
    page = await http.get(location)
    form = forms(page.text)[-1]
    assert form.fields["email"] == "user@example.com"


# -- Redirect status codes --------------------------------------------------------------------


async def test_redirects_after_get_are_302_and_after_posts_never_307_or_308(
    http: httpx.AsyncClient, world: World
) -> None:
    """INTERFACE.md: after the login and consent POSTs, 302 or 303 (a 307 would re-POST the
    password or the consent form to the client)."""
    to_login = await http.get(authorize_url(world.web, state="st"))
    assert to_login.status_code == 302
    signed = await submit_login(http, to_login.headers["location"], world.user.email)
    assert signed.status_code in (302, 303)
    page = await http.get(signed.headers["location"])
    allowed = await consent(http, page)
    assert allowed.status_code in (302, 303)
    denied = await consent(http, await http.get(authorize_url(world.web, prompt="consent")), decision="deny")
    assert denied.status_code in (302, 303)
    issued = await http.get(authorize_url(world.web))
    assert issued.status_code == 302


async def test_the_request_may_be_a_form_post_oidc_core_3_1_2_1(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and
    POST methods"; with POST the parameters are a form body. The same request, the same
    answers: the login page first (by 303, the browser follows with GET), then the code."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": world.web.client_id,
        "redirect_uri": world.web.redirect_uri,
        "scope": "read",
        "state": "posted",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    to_login = await http.post(AUTHORIZE, data=params)
    assert to_login.status_code == 303, to_login.text
    assert to_login.headers["location"].startswith("/access/login?")

    await sign_in(http, world.user.email)
    page = await http.post(AUTHORIZE, data=params)
    answer = await consent(http, page) if page.status_code == 200 else page
    assert answer.status_code == 303, answer.text
    returned = query_of(answer.headers["location"])
    assert returned["state"] == "posted" and returned["code"]
    tokens = await http.post(
        "/oauth/tokens",
        auth=world.web.basic(),
        data={
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": world.web.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text

    # An error is delivered to the client as for GET (after the client is trusted).
    refused = await http.post(AUTHORIZE, data={**params, "scope": "no-such-scope"})
    assert refused.status_code == 303
    assert query_of(refused.headers["location"])["error"] == "invalid_scope"


async def test_a_form_post_that_is_not_a_form_is_a_page(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(AUTHORIZE, json={"client_id": world.web.client_id})
    assert response.status_code == 400
    assert "application/x-www-form-urlencoded" in response.text
