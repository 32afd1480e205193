"""The platform host (the bare base domain): INTERFACE.md sections 2 and 4 "The platform
host" (the account chooser for global clients), RFC 9207 (iss tells a global client which
account answered), RFC 8414 section 3 (the platform host is not an issuer); the chooser's
Cancel: RFC 6749 section 4.1.2.1 (access_denied, state; never a redirect to an unregistered
URI) and RFC 9207 section 2 (iss on error responses too).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, consent, forms, fragment_of, query_of, sign_in

pytestmark = pytest.mark.anyio

AUTHORIZE = "/oauth/authorizations/new"


class _Inputs(HTMLParser):
    """Every form, every input (with its type) and every button on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []
        self.buttons: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(a)
        elif tag in ("input", "textarea", "select"):
            self.inputs.append({"tag": tag, "type": a.get("type", "text").lower(), **a})
        elif tag == "button":
            self.buttons.append(a)


def parse(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


@pytest.fixture
async def platform(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


@pytest.fixture
async def global_client(stores: Stores, clock: Clock) -> RegisteredClient:
    return await add_client(
        stores,
        None,
        clock(),
        name="Everywhere App",
        company="Global Co",
        redirect_uris=("https://everywhere.example.com/cb",),
    )


def original(client: RegisteredClient) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": "https://everywhere.example.com/cb",
        "scope": "read write",
        "state": "st&=x y",
        "nonce": "n-0S6",
    }


async def test_chooser_is_a_form_with_one_text_field_named_subdomain(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    params = original(global_client)
    response = await platform.get(AUTHORIZE, params=params)
    assert response.status_code == 200, response.text
    page = parse(response.text)
    (form,) = page.forms
    assert form["action"] == AUTHORIZE
    assert form.get("method", "get").lower() == "get"
    visible = [i for i in page.inputs if i["type"] != "hidden"]
    assert [(i["tag"], i["type"], i["name"]) for i in visible] == [("input", "text", "subdomain")]
    hidden = {i["name"]: i["value"] for i in page.inputs if i["type"] == "hidden"}
    assert hidden == params
    assert "Everywhere App" in response.text


async def test_chooser_with_an_existing_subdomain_redirects_302_to_that_account(
    platform: httpx.AsyncClient, global_client: RegisteredClient, world: World
) -> None:
    params = original(global_client)
    response = await platform.get(AUTHORIZE, params={**params, "subdomain": world.subdomain})
    assert response.status_code == 302
    location = response.headers["location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"http://{world.subdomain}.localhost{AUTHORIZE}"
    assert query_of(location) == params
    assert "subdomain" not in query_of(location)


async def test_the_chooser_speaks_the_requests_ui_locales_and_passes_them_on(
    platform: httpx.AsyncClient, global_client: RegisteredClient, world: World
) -> None:
    """OIDC Core 1.0 section 3.1.2.1: the account chooser is a page of the authorization
    request, in its ui_locales' language; the request, ui_locales with it, goes on to the
    account (whose sign-in page then speaks it too)."""
    params = {**original(global_client), "ui_locales": "ja"}
    page = await platform.get(AUTHORIZE, params=params, headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "ja"
    unknown = await platform.get(AUTHORIZE, params={**params, "subdomain": "nope-none"})
    assert unknown.headers["Content-Language"] == "ja"
    chosen = await platform.get(AUTHORIZE, params={**params, "subdomain": world.subdomain})
    assert query_of(chosen.headers["location"])["ui_locales"] == "ja"


async def test_chooser_accepts_the_subdomain_in_capitals_and_with_spaces(
    platform: httpx.AsyncClient, global_client: RegisteredClient, world: World
) -> None:
    response = await platform.get(
        AUTHORIZE, params={**original(global_client), "subdomain": f" {world.subdomain.upper()} "}
    )
    assert response.status_code == 302
    assert urlsplit(response.headers["location"]).netloc == f"{world.subdomain}.localhost"


@pytest.mark.parametrize("typed", ["{sub}.localhost", "{sub}.localhost:8000", "https://{sub}.localhost/", "{sub}."])
async def test_chooser_accepts_the_accounts_address_as_the_browser_shows_it(
    platform: httpx.AsyncClient, global_client: RegisteredClient, world: World, typed: str
) -> None:
    """Users copy what their browser shows: the account's host, with a port or a scheme."""
    response = await platform.get(
        AUTHORIZE, params={**original(global_client), "subdomain": typed.format(sub=world.subdomain)}
    )
    assert response.status_code == 302, response.text
    assert urlsplit(response.headers["location"]).netloc == f"{world.subdomain}.localhost"


async def test_chooser_keeps_the_port_of_the_platform_host(
    app: object, global_client: RegisteredClient, world: World
) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as platform:
        response = await platform.get(AUTHORIZE, params={**original(global_client), "subdomain": world.subdomain})
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"http://{world.subdomain}.localhost:8000{AUTHORIZE}?")


async def test_unknown_subdomain_shows_the_chooser_again_with_an_error(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    params = original(global_client)
    response = await platform.get(AUTHORIZE, params={**params, "subdomain": "no-such-account-zz"})
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "There is no account named &#39;no-such-account-zz&#39;" in response.text
    page = parse(response.text)
    assert [i["name"] for i in page.inputs if i["type"] == "text"] == ["subdomain"]
    assert {i["name"]: i["value"] for i in page.inputs if i["type"] == "hidden"} == params
    # What was typed stays in the field, to be corrected rather than typed again.
    assert [i["value"] for i in page.inputs if i["type"] == "text"] == ["no-such-account-zz"]


@pytest.mark.parametrize("subdomain", ["evil.com", "evil.com/x", "a.b", "//evil.com"])
async def test_subdomain_that_is_not_an_account_is_never_a_redirect(
    platform: httpx.AsyncClient, global_client: RegisteredClient, subdomain: str
) -> None:
    response = await platform.get(AUTHORIZE, params={**original(global_client), "subdomain": subdomain})
    assert response.status_code == 200
    assert "location" not in response.headers


async def test_non_global_client_is_refused_with_a_page(platform: httpx.AsyncClient, world: World) -> None:
    response = await platform.get(
        AUTHORIZE,
        params={
            "response_type": "code",
            "client_id": world.web.client_id,
            "redirect_uri": world.web.redirect_uri,
            "scope": "read",
            "subdomain": world.subdomain,
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "serves only global OAuth clients" in response.text
    assert world.web.client_id in response.text
    assert parse(response.text).forms == []


@pytest.mark.parametrize(
    "redirect_uri", ["https://evil.example/cb", "https://everywhere.example.com/cb/../evil", "//evil.example/cb"]
)
async def test_chooser_refuses_a_redirect_uri_not_registered_before_asking_rfc6749_4_1_2_1(
    platform: httpx.AsyncClient, global_client: RegisteredClient, redirect_uri: str
) -> None:
    """RFC 6749 section 4.1.2.1: a request with an invalid redirect URI gets a page, never a
    redirect; the chooser says so at once, rather than after the user typed their account."""
    params = {**original(global_client), "redirect_uri": redirect_uri, "ui_locales": "ja"}
    response = await platform.get(AUTHORIZE, params=params)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["Content-Language"] == "ja"
    assert parse(response.text).forms == []
    english = await platform.get(AUTHORIZE, params={**params, "ui_locales": "en"})
    assert "is not registered for the client" in english.text
    assert "https://everywhere.example.com/cb" in english.text
    # Nor does typing an account first turn it into a redirect to that account.
    typed = await platform.get(AUTHORIZE, params={**params, "subdomain": "acme"})
    assert typed.status_code == 400 and "location" not in typed.headers


async def test_chooser_refuses_a_repeated_redirect_uri_rfc6749_3_1(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """RFC 6749 section 3.1: request parameters "MUST NOT be included more than once"."""
    query = urlencode([*original(global_client).items(), ("redirect_uri", "https://everywhere.example.com/cb")])
    response = await platform.get(f"{AUTHORIZE}?{query}")
    assert response.status_code == 400
    assert "sent more than once" in response.text


async def test_chooser_without_redirect_uri_uses_the_one_registered_rfc6749_3_1_2_3(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    params = {k: v for k, v in original(global_client).items() if k != "redirect_uri"}
    response = await platform.get(AUTHORIZE, params=params)
    assert response.status_code == 200
    assert len(parse(response.text).forms) == 1


async def test_missing_client_id_is_refused_with_a_page(platform: httpx.AsyncClient) -> None:
    response = await platform.get(AUTHORIZE, params={"response_type": "code"})
    assert response.status_code == 400
    assert "client_id is missing" in response.text


@pytest.mark.parametrize(
    "path", ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/oauth/jwks"]
)
async def test_platform_host_has_no_discovery_rfc8414_3(platform: httpx.AsyncClient, path: str) -> None:
    response = await platform.get(path)
    assert response.status_code == 404
    assert "issuer" not in response.text


async def test_platform_host_issues_nothing(platform: httpx.AsyncClient, global_client: RegisteredClient) -> None:
    assert global_client.secret is not None
    response = await platform.post(
        "/oauth/tokens",
        auth=global_client.basic(),
        data={"grant_type": "authorization_code", "code": "tsc_x", "redirect_uri": "https://everywhere.example.com/cb"},
    )
    assert response.status_code == 404
    assert "access_token" not in response.text


async def test_platform_host_has_no_login(platform: httpx.AsyncClient) -> None:
    assert (await platform.get("/access/login")).status_code == 404


async def test_global_client_through_the_chooser_gets_the_accounts_iss_rfc9207(
    platform: httpx.AsyncClient, http: httpx.AsyncClient, global_client: RegisteredClient, world: World
) -> None:
    params = original(global_client)
    chosen = await platform.get(AUTHORIZE, params={**params, "subdomain": world.subdomain})
    location = chosen.headers["location"]
    assert (await sign_in(http, world.user.email)).status_code == 303
    page = await http.get(AUTHORIZE + "?" + urlsplit(location).query)
    assert page.status_code == 200, page.text
    assert "Everywhere App" in page.text
    answer = await consent(http, page)
    assert answer.headers["location"].startswith("https://everywhere.example.com/cb?")
    result = query_of(answer.headers["location"])
    assert result["code"].startswith("tsc_")
    assert result["state"] == "st&=x y"
    assert result["iss"] == f"http://{world.subdomain}.localhost"
    token = await http.post(
        "/oauth/tokens",
        auth=global_client.basic(),
        data={"grant_type": "authorization_code", "code": result["code"], "redirect_uri": params["redirect_uri"]},
    )
    assert token.status_code == 200, token.text
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["user"]["email"] == "user@example.com"


async def test_platform_home_is_not_an_account(platform: httpx.AsyncClient) -> None:
    response = await platform.get("/")
    assert response.status_code == 200
    assert "Every account lives at its own address" in response.text


async def test_a_form_post_on_the_platform_host_becomes_the_same_request_by_get(
    platform: httpx.AsyncClient,
) -> None:
    """OIDC Core 3.1.2.1 (GET and POST): the account chooser reads the request from its URL,
    so a posted request is sent back to it as the same parameters by GET (303)."""
    params = {"response_type": "code", "client_id": "some-global-app", "scope": "read", "state": "s"}
    response = await platform.post("/oauth/authorizations/new", data=params)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/oauth/authorizations/new?")
    assert dict(parse_qsl(location.split("?", 1)[1])) == params


# -- The chooser's Cancel ---------------------------------------------------------------------

DECISION = "/oauth/authorizations"


async def press_cancel(
    platform: httpx.AsyncClient, params: dict[str, str], forged: dict[str, str] | None = None
) -> httpx.Response:
    """What a browser sends on Cancel: the chooser's one form, by its Cancel button's own
    method and action, with the button's name and value (the field left empty). `forged`
    replaces fields' values, as a hand-made POST would: the chooser itself is never shown
    for a request it could not answer."""
    page = await platform.get(AUTHORIZE, params=params)
    assert page.status_code == 200, page.text
    parsed = parse(page.text)
    (button,) = [b for b in parsed.buttons if b.get("value") == "cancel"]
    fields = [(i["name"], (forged or {}).get(i["name"], i.get("value", ""))) for i in parsed.inputs]
    body = urlencode([*fields, (button["name"], button["value"])])
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await platform.request(button["formmethod"].upper(), button["formaction"], content=body, headers=headers)


async def test_the_chooser_offers_cancel_in_its_one_form_after_continue(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """INTERFACE.md "The platform host": still one form, one text field. Cancel comes after
    Continue, so Enter in the field continues (a form's default button is its first); it
    posts, like the consent form's Deny, to the same path, and skips the field's `required`."""
    page = parse((await platform.get(AUTHORIZE, params=original(global_client))).text)
    assert len(page.forms) == 1
    continue_, cancel = page.buttons
    assert continue_.get("type") == "submit" and "formaction" not in continue_
    assert cancel["type"] == "submit" and (cancel["name"], cancel["value"]) == ("decision", "cancel")
    assert cancel["formmethod"] == "post" and cancel["formaction"] == DECISION and "formnovalidate" in cancel


async def test_cancel_returns_to_the_client_with_access_denied_state_and_iss_rfc6749_4_1_2_1_rfc9207(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """RFC 6749 section 4.1.2.1: the user denied the request, so access_denied at the
    registered redirect URI, with the state sent; RFC 9207 section 2: iss on an error too.
    No account answered: iss is the platform host's own address, not an account's issuer.
    303 after the POST (INTERFACE.md section 4: never 307/308 after a form)."""
    answer = await press_cancel(platform, original(global_client))
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("https://everywhere.example.com/cb?")
    result = query_of(location)
    assert result["error"] == "access_denied"
    assert "cancelled" in result["error_description"]
    assert result["state"] == "st&=x y"
    assert result["iss"] == "http://localhost"
    assert set(result) == {"error", "error_description", "state", "iss"}
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"


async def test_cancel_keeps_the_port_of_the_platform_host_in_iss_rfc9207(
    app: object, global_client: RegisteredClient
) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as platform:
        answer = await press_cancel(platform, original(global_client))
    assert answer.status_code == 303
    assert query_of(answer.headers["location"])["iss"] == "http://localhost:8000"


async def test_cancel_answers_in_the_requests_response_mode(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """RFC 6749 section 4.2.2.1 (implicit: the fragment), OAuth 2.0 Multiple Response Type
    Encoding Practices section 2.1 (response_mode) and Form Post Response Mode: the error
    travels as the request's answer would have."""
    fragment = await press_cancel(platform, {**original(global_client), "response_mode": "fragment"})
    assert fragment.status_code == 303
    assert urlsplit(fragment.headers["location"]).query == ""
    assert fragment_of(fragment.headers["location"])["error"] == "access_denied"
    posted = await press_cancel(platform, {**original(global_client), "response_mode": "form_post"})
    assert posted.status_code == 200
    (form,) = forms(posted.text)
    assert form.action == "https://everywhere.example.com/cb"
    assert form.fields["error"] == "access_denied"
    assert form.fields["state"] == "st&=x y" and form.fields["iss"] == "http://localhost"


async def test_cancel_without_redirect_uri_goes_to_the_one_registered(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """INTERFACE.md section 4: with exactly one registered URI the parameter may be omitted."""
    params = {k: v for k, v in original(global_client).items() if k != "redirect_uri"}
    answer = await press_cancel(platform, params)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://everywhere.example.com/cb?error=access_denied&")


@pytest.mark.parametrize(
    "redirect_uri", ["https://evil.example/cb", "https://everywhere.example.com/cb/../evil", "//evil.example/cb"]
)
async def test_cancel_never_redirects_to_a_uri_not_registered_rfc6749_4_1_2_1(
    platform: httpx.AsyncClient, global_client: RegisteredClient, redirect_uri: str
) -> None:
    """RFC 6749 section 4.1.2.1: with an invalid redirect URI the server "MUST NOT
    automatically redirect the user-agent"; the page an account host shows for that request
    instead: not sent back, nothing shared, the registered URIs in the developer's details."""
    answer = await press_cancel(platform, original(global_client), forged={"redirect_uri": redirect_uri})
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "you were not sent back to it" in answer.text
    assert "is not registered for the client" in answer.text
    assert "https://everywhere.example.com/cb" in answer.text


async def test_cancel_with_a_client_that_is_not_global_is_a_page_never_a_redirect(
    platform: httpx.AsyncClient, world: World
) -> None:
    """An account's own client is not served on the platform host (INTERFACE.md "The
    platform host"): its registered redirect URI is not used either."""
    data = {
        "response_type": "code",
        "client_id": world.web.client_id,
        "redirect_uri": world.web.redirect_uri,
        "state": "s",
        "decision": "cancel",
    }
    answer = await platform.post(DECISION, data=data)
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "serves only global OAuth clients" in answer.text


@pytest.mark.parametrize("decision", [None, "allow", "deny"])
async def test_the_platform_host_decides_nothing_but_cancel(
    platform: httpx.AsyncClient, global_client: RegisteredClient, decision: str | None
) -> None:
    """The platform host has no consent: anything but decision=cancel is refused with a page."""
    data = {**original(global_client), **({} if decision is None else {"decision": decision})}
    answer = await platform.post(DECISION, data=data)
    assert answer.status_code == 400
    assert "location" not in answer.headers


async def test_cancel_cannot_be_sent_by_a_link_and_a_cross_site_post_changes_nothing(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """As the consent form's Deny: only a POST cancels, so no link, prefetch or image sends
    the user anywhere. A POST from another site (no CSRF token: the platform host has no
    session) can only do what a link to the client's own redirect URI could: it goes nowhere
    else, sets no cookie, and answers with no CORS headers (INTERFACE.md section 5)."""
    data = {**original(global_client), "decision": "cancel"}
    assert (await platform.get(DECISION, params=data)).status_code == 405
    answer = await platform.post(DECISION, data=data, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("https://everywhere.example.com/cb?")
    assert "set-cookie" not in answer.headers
    assert not [h for h in answer.headers if h.lower().startswith("access-control-")]


async def test_cancel_pages_speak_the_requests_ui_locales(
    platform: httpx.AsyncClient, global_client: RegisteredClient
) -> None:
    """OIDC Core 1.0 section 3.1.2.1: the chooser's form carries ui_locales, and the page a
    cancel may end on speaks it, as the chooser did."""
    params = {**original(global_client), "ui_locales": "ja"}
    answer = await press_cancel(platform, params, forged={"redirect_uri": "https://evil.example/cb"})
    assert answer.status_code == 400
    assert answer.headers["Content-Language"] == "ja"
