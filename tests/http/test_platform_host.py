"""The platform host (the bare base domain): INTERFACE.md sections 2 and 4 "The platform
host" (the account chooser for global clients), RFC 9207 (iss tells a global client which
account answered), RFC 8414 section 3 (the platform host is not an issuer).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, consent, query_of, sign_in

pytestmark = pytest.mark.anyio

AUTHORIZE = "/oauth/authorizations/new"


class _Inputs(HTMLParser):
    """Every form and every input (with its type) on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(a)
        elif tag in ("input", "textarea", "select"):
            self.inputs.append({"tag": tag, "type": a.get("type", "text").lower(), **a})


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
