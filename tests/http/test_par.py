"""Pushed authorization requests, RFC 9126, at POST /oauth/par and the authorization
endpoint (INTERFACE.md section 10): client authentication as at the token endpoint
(section 2), the 201 response (section 2.2), errors (section 2.3), the request_uri used
once with client_id (sections 4 and 7.3), clients that require PAR (section 6), discovery
(section 5)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import httpx
import pytest

from tessera.settings import Settings
from tessera.storage.stores import Stores
from tests.support import (
    Clock,
    RegisteredClient,
    World,
    add_client,
    consent,
    forms,
    pkce_pair,
    query_of,
    sign_in,
    token_request,
)

pytestmark = pytest.mark.anyio

PAR = "/oauth/par"
AUTHORIZE = "/oauth/authorizations/new"
URN = re.compile(r"^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$")


def request_params(client: RegisteredClient, **extra: str) -> dict[str, str]:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "redirect_uri": client.redirect_uri,
        "scope": "read",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


async def push(http: httpx.AsyncClient, client: RegisteredClient, **params: str) -> httpx.Response:
    """A push authenticated as the client authenticates at the token endpoint."""
    if client.secret is None:
        return await http.post(PAR, data={"client_id": client.client_id, **params})
    return await http.post(PAR, auth=client.basic(), data=params)


async def pushed_uri(http: httpx.AsyncClient, client: RegisteredClient, **params: str) -> str:
    response = await push(http, client, **request_params(client, **params))
    assert response.status_code == 201, response.text
    return str(response.json()["request_uri"])


def by_reference(client: RegisteredClient, request_uri: str, **extra: str) -> str:
    return AUTHORIZE + "?" + urlencode({"client_id": client.client_id, "request_uri": request_uri, **extra})


def oauth_error(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert response.headers["cache-control"] == "no-store"
    return str(body["error_description"])


# -- section 2: the endpoint ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "none"])
async def test_push_answers_201_with_a_request_uri_for_every_authentication_method(
    http: httpx.AsyncClient, world: World, method: str
) -> None:
    """RFC 9126 section 2.2: "201 Created" with request_uri and expires_in; section 2:
    client authentication as at the token endpoint, public clients by client_id alone."""
    client = world.spa if method == "none" else world.web
    params = request_params(client)
    if method == "client_secret_basic":
        response = await http.post(PAR, auth=client.basic(), data=params)
    elif method == "client_secret_post":
        assert client.secret is not None
        response = await http.post(PAR, data={**params, "client_id": client.client_id, "client_secret": client.secret})
    else:
        response = await http.post(PAR, data={**params, "client_id": client.client_id})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"request_uri", "expires_in"}
    assert URN.match(body["request_uri"]), body
    assert body["expires_in"] == 60
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")


async def test_each_push_gets_its_own_request_uri(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 2.2: the request_uri references this request; 256 random bits each."""
    uris = {await pushed_uri(http, world.web) for _ in range(3)}
    assert len(uris) == 3


async def test_request_uri_is_kept_as_a_digest_only(http: httpx.AsyncClient, world: World, stores: Stores) -> None:
    """DESIGN.md: everything single-use is stored as a digest (RFC 9126 section 7.1)."""
    import sqlalchemy as sa

    from tessera.storage.schema import pushed_requests

    uri = await pushed_uri(http, world.web)
    rows = await stores.db.read(
        lambda conn: conn.execute(
            sa.select(pushed_requests).where(pushed_requests.c.account_id == world.account.id)
        ).all()
    )
    assert rows
    for row in rows:
        assert uri.encode() not in bytes(row.digest)
        assert uri not in row.parameters


@pytest.mark.parametrize(
    ("auth", "expected_basic"),
    [("wrong-secret", True), (None, False)],
)
async def test_failed_client_authentication_is_invalid_client(
    http: httpx.AsyncClient, world: World, auth: str | None, expected_basic: bool
) -> None:
    """RFC 9126 section 2: the endpoint authenticates confidential clients as the token
    endpoint does; RFC 6749 section 5.2: invalid_client is 401."""
    params = request_params(world.web)
    if auth is None:
        response = await http.post(PAR, data={**params, "client_id": world.web.client_id})
    else:
        response = await http.post(PAR, auth=(world.web.client_id, auth), data=params)
    oauth_error(response, 401, "invalid_client")
    assert ("www-authenticate" in response.headers) is expected_basic


async def test_failed_authentication_is_throttled_like_the_token_endpoint(
    http: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """INTERFACE.md section 9: failed client authentication is limited per client (and the
    PAR endpoint counts with the token endpoint's throttle): 401s, then 429 with Retry-After,
    even for the right secret."""
    params = request_params(world.web)
    statuses = [
        (await http.post(PAR, auth=(world.web.client_id, f"wrong-{i}"), data=params)).status_code
        for i in range(settings.throttle_client_auth_per_client + 1)
    ]
    assert statuses == [401] * settings.throttle_client_auth_per_client + [429]
    refused = await http.post(PAR, auth=world.web.basic(), data=params)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"] == "too_many_requests"


async def test_unknown_client_is_invalid_client(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(PAR, data={**request_params(world.spa), "client_id": "nobody"})
    oauth_error(response, 401, "invalid_client")


async def test_a_pushed_request_uri_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 2.1: "The request_uri authorization request parameter ... MUST NOT
    be provided" (section 2.3: invalid_request)."""
    response = await push(http, world.web, **request_params(world.web, request_uri="urn:x"))
    assert "request_uri" in oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("change", "error", "mentions"),
    [
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request", "redirect_uri"),
        ({"response_type": "id_token"}, "unsupported_response_type", "response_type"),
        ({"response_type": ""}, "invalid_request", "response_type"),
        ({"scope": "read not-a-scope"}, "invalid_scope", "not-a-scope"),
        ({"code_challenge_method": "plain"}, "invalid_request", "plain"),
        ({"resource": "https://elsewhere.example/api"}, "invalid_target", "resource"),
        ({"prompt": "sometimes"}, "invalid_request", "prompt"),
    ],
)
async def test_pushed_parameters_are_checked_as_at_the_authorization_endpoint(
    http: httpx.AsyncClient, world: World, change: dict[str, str], error: str, mentions: str
) -> None:
    """RFC 9126 section 2.1: the server "MUST validate the pushed request as it would an
    authorization request"; section 2.3: errors as RFC 6749 section 5.2 with the codes of
    section 4.1.2.1."""
    response = await push(http, world.web, **request_params(world.web, **change))
    assert mentions in oauth_error(response, 400, error)


async def test_public_clients_must_push_pkce(http: httpx.AsyncClient, world: World) -> None:
    """The authorization endpoint's PKCE rule for public clients applies to the push."""
    params = request_params(world.spa)
    del params["code_challenge"], params["code_challenge_method"]
    response = await push(http, world.spa, **params)
    oauth_error(response, 400, "invalid_request")


async def test_a_client_not_allowed_the_code_grant_is_unauthorized(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(PAR, auth=world.machine.basic(), data={"response_type": "code", "scope": "read"})
    assert response.status_code == 400
    assert response.json()["error"] in ("unauthorized_client", "invalid_request")


async def test_repeated_parameters_are_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    content = urlencode([("response_type", "code"), ("scope", "read"), ("scope", "write")])
    response = await http.post(
        PAR,
        auth=world.web.basic(),
        content=content,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    oauth_error(response, 400, "invalid_request")


async def test_get_is_not_allowed(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 2.3: a request that is not POST gets 405."""
    assert (await http.get(PAR)).status_code == 405


async def test_cors_like_the_token_endpoint(http: httpx.AsyncClient, world: World) -> None:
    preflight = await http.options(
        PAR, headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers.get("access-control-allow-origin")
    response = await http.post(
        PAR,
        data={**request_params(world.spa), "client_id": world.spa.client_id},
        headers={"Origin": "https://x.example"},
    )
    assert response.status_code == 201
    assert response.headers.get("access-control-allow-origin")


# -- section 4: the authorization request by reference ---------------------------------------


async def code_through_par(
    http: httpx.AsyncClient, client: RegisteredClient, email: str, *, verifier_challenge: tuple[str, str]
) -> tuple[str, str]:
    """Push, then follow the authorization endpoint through login and consent; the code and
    the request_uri."""
    _, challenge = verifier_challenge
    request_uri = await pushed_uri(http, client, code_challenge=challenge, state="par-state")
    start = await http.get(by_reference(client, request_uri))
    assert start.status_code == 302, start.text
    login = start.headers["location"]
    assert login.startswith("/access/login?")
    return_to = query_of(login)["return_to"]
    assert "request_uri" in return_to and "code_challenge" not in return_to
    await sign_in(http, email, return_to=return_to)
    page = await http.get(return_to)
    assert page.status_code == 200, page.headers.get("location")
    answer = await consent(http, page)
    assert answer.status_code == 303, answer.text
    params = query_of(answer.headers["location"])
    assert answer.headers["location"].startswith(client.redirect_uri)
    assert params["state"] == "par-state"
    return params["code"], request_uri


async def test_full_code_flow_with_pkce_through_par(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 sections 2 and 4: push, authorize by reference through sign-in and consent,
    then redeem the code with the PKCE verifier (RFC 7636 section 4.5)."""
    verifier, challenge = pkce_pair()
    code, _ = await code_through_par(http, world.spa, world.user.email, verifier_challenge=(verifier, challenge))
    response = await token_request(
        http,
        world.spa,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": world.spa.redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"].startswith("tsa_")


async def test_a_used_request_uri_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 7.3 / section 4: request_uri is one-time use; a second use gets a
    page saying so, and never a second code."""
    _, request_uri = await code_through_par(http, world.web, world.user.email, verifier_challenge=pkce_pair())
    again = await http.get(by_reference(world.web, request_uri))
    assert again.status_code == 400
    assert "already used" in again.text
    assert "location" not in again.headers


async def test_a_consent_form_sent_twice_answers_once(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 7.3: one authorization response per request_uri."""
    request_uri = await pushed_uri(http, world.web)
    await sign_in(http, world.user.email)
    page = await http.get(by_reference(world.web, request_uri))
    assert page.status_code == 200
    first = await consent(http, page)
    assert first.status_code == 303 and "code=" in first.headers["location"]
    second = await consent(http, page)
    assert second.status_code == 400
    assert "already used" in second.text


async def test_a_request_uri_started_in_one_browser_cannot_be_used_in_another(
    http: httpx.AsyncClient, world: World, app: object
) -> None:
    """Section 7.3: the first use claims the request_uri; another user agent holding only the
    request_uri (not the flow secret the claim minted) is refused."""
    request_uri = await pushed_uri(http, world.web)
    first = await http.get(by_reference(world.web, request_uri))
    assert first.status_code == 302
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as other:
        await sign_in(other, world.user.email)
        stolen = await other.get(by_reference(world.web, request_uri))
    assert stolen.status_code == 400
    assert "already used" in stolen.text


async def test_of_two_simultaneous_first_uses_exactly_one_wins(
    http: httpx.AsyncClient, world: World, app: object
) -> None:
    """RFC 9126 section 7.3 under concurrency: the claim is one conditional update."""
    request_uri = await pushed_uri(http, world.web)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as other:
        answers = await asyncio.gather(
            *(browser.get(by_reference(world.web, request_uri)) for browser in (http, other, http, other))
        )
    assert sorted(a.status_code for a in answers) == [302, 400, 400, 400]


async def test_denying_a_pushed_request_answers_access_denied_once(http: httpx.AsyncClient, world: World) -> None:
    request_uri = await pushed_uri(http, world.web)
    await sign_in(http, world.user.email)
    page = await http.get(by_reference(world.web, request_uri))
    denied = await consent(http, page, decision="deny")
    assert denied.status_code == 303
    params = query_of(denied.headers["location"])
    assert params["error"] == "access_denied" and params["state"] == "s1"
    assert (await consent(http, page)).status_code == 400


async def test_parameters_beside_the_request_uri_are_ignored(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 4: the server "MUST ... ignore" parameters sent beside request_uri
    (only client_id and request_uri are used): the pushed redirect_uri and state win."""
    await sign_in(http, world.user.email)
    request_uri = await pushed_uri(http, world.web, redirect_uri="http://127.0.0.1/callback", scope="read")
    response = await http.get(
        by_reference(world.web, request_uri, redirect_uri="https://app.example.com/callback", state="forged")
    )
    assert response.status_code == 200, response.headers.get("location")
    answer = await consent(http, response)
    location = answer.headers["location"]
    assert location.startswith("http://127.0.0.1/callback?")
    assert query_of(location)["state"] == "s1"


async def test_an_expired_request_uri_is_refused(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """RFC 9126 section 2.2: expires_in 60; after it, the request_uri is refused."""
    request_uri = await pushed_uri(http, world.web)
    clock.advance(61)
    response = await http.get(by_reference(world.web, request_uri))
    assert response.status_code == 400
    assert "expired" in response.text and "60 seconds" in response.text
    assert "location" not in response.headers


async def test_another_clients_request_uri_is_refused(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 4: the request_uri is bound to the client that pushed it."""
    request_uri = await pushed_uri(http, world.web)
    response = await http.get(by_reference(world.spa, request_uri))
    assert response.status_code == 400
    assert "another client" in response.text
    # ...and the attempt did not burn it for its own client.
    own = await http.get(by_reference(world.web, request_uri))
    assert own.status_code == 302 and own.headers["location"].startswith("/access/login")


async def test_an_unknown_request_uri_is_a_page_not_a_redirect(http: httpx.AsyncClient, world: World) -> None:
    """No redirect URI is trusted before the pushed parameters are read (RFC 6749 section
    4.1.2.1); a request_uri Tessera did not issue (OIDC Core 6.2 request objects by URL
    included) is refused on a page."""
    for value in ("urn:ietf:params:oauth:request_uri:nope", "https://rp.example/r/1"):
        response = await http.get(by_reference(world.web, value))
        assert response.status_code == 400
        assert "not issued" in response.text
        assert "location" not in response.headers


async def test_a_request_uri_of_another_account_is_unknown(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock, app: object
) -> None:
    from tests.support import make_world

    other = await make_world(stores, clock)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=other.origin) as there:
        request_uri = await pushed_uri(there, other.web)
    response = await http.get(by_reference(world.web, request_uri))
    assert response.status_code == 400
    assert "not issued" in response.text


async def test_prompt_none_through_par_answers_login_required_once(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 3.1.2.6 errors go back to the client for a pushed request too, and close it."""
    request_uri = await pushed_uri(http, world.web, prompt="none")
    response = await http.get(by_reference(world.web, request_uri))
    assert response.status_code == 302
    assert query_of(response.headers["location"])["error"] == "login_required"
    again = await http.get(by_reference(world.web, request_uri))
    assert again.status_code == 400


async def test_login_hint_through_par_fills_the_login_form(http: httpx.AsyncClient, world: World) -> None:
    """OIDC Core 3.1.2.1 login_hint, pushed: the login page still gets it."""
    request_uri = await pushed_uri(http, world.web, login_hint=world.user.email)
    start = await http.get(by_reference(world.web, request_uri))
    assert query_of(start.headers["location"])["email"] == world.user.email


async def test_prompt_login_through_par_does_not_loop(http: httpx.AsyncClient, world: World) -> None:
    await sign_in(http, world.user.email)
    request_uri = await pushed_uri(http, world.web, prompt="login")
    start = await http.get(by_reference(world.web, request_uri))
    assert start.headers["location"].startswith("/access/login")
    return_to = query_of(start.headers["location"])["return_to"]
    await sign_in(http, world.user.email, return_to=return_to)
    page = await http.get(return_to)
    assert page.status_code == 200
    assert any(f.action == "/oauth/authorizations" for f in forms(page.text))


# -- section 6: clients that require PAR ------------------------------------------------------


async def test_a_client_that_requires_par_is_refused_plain_requests(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 9126 section 6: require_pushed_authorization_requests; INTERFACE.md section 10:
    other authorization requests get invalid_request (back to the registered redirect URI)."""
    strict = await add_client(
        stores, world.account, clock(), redirect_uris=("https://strict.example/cb",), require_par=True
    )
    await sign_in(http, world.user.email)
    plain = await http.get(
        AUTHORIZE
        + "?"
        + urlencode({"response_type": "code", "client_id": strict.client_id, "scope": "read", "state": "p"})
    )
    assert plain.status_code == 302
    location = plain.headers["location"]
    assert location.startswith("https://strict.example/cb?")
    params = query_of(location)
    assert params["error"] == "invalid_request"
    assert "push" in params["error_description"]
    assert params["state"] == "p"
    request_uri = await pushed_uri(http, strict)
    by_ref = await http.get(by_reference(strict, request_uri))
    assert by_ref.status_code == 200, by_ref.headers.get("location")  # the consent page


# -- section 5: discovery ---------------------------------------------------------------------


async def test_discovery_names_the_par_endpoint(http: httpx.AsyncClient, world: World) -> None:
    """RFC 9126 section 5."""
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
        doc = (await http.get(path)).json()
        assert doc["pushed_authorization_request_endpoint"] == world.origin + PAR
        assert doc["require_pushed_authorization_requests"] is False
        assert doc["request_uri_parameter_supported"] is True


@pytest.mark.parametrize("demand", [{"prompt": "login"}, {"max_age": "60"}])
async def test_a_pushed_demand_to_sign_in_holds_until_someone_signs_in(
    http: httpx.AsyncClient, world: World, clock: Clock, demand: dict[str, str]
) -> None:
    """A pushed request cannot be edited on its way through the browser (RFC 9126 section
    1), so its prompt=login or max_age (OIDC Core 3.1.2.1: "MUST attempt to actively
    re-authenticate") is answered only by a sign-in after the request was claimed: coming
    back from the login page without signing in, or posting the consent form, shows the
    login page again and gives no code."""
    await code_through_par(http, world.web, world.user.email, verifier_challenge=pkce_pair())  # signed in, consented
    clock.advance(3600)
    _, challenge = pkce_pair()
    request_uri = await pushed_uri(http, world.web, code_challenge=challenge, **demand)
    start = await http.get(by_reference(world.web, request_uri))
    assert start.headers["location"].startswith("/access/login?")
    return_to = query_of(start.headers["location"])["return_to"]

    skipped = await http.get(return_to)  # back without signing in
    assert skipped.status_code == 302
    assert skipped.headers["location"].startswith("/access/login?"), skipped.headers["location"]
    carried = dict(query_of("?" + return_to.split("?", 1)[1]))
    me = await http.get("/api/v2/users/me")
    forged = await http.post(
        "/oauth/authorizations",
        data={**carried, "decision": "allow", "authenticity_token": me.json()["user"]["authenticity_token"]},
    )
    assert forged.status_code == 303
    assert forged.headers["location"].startswith("/access/login?"), forged.headers["location"]

    await sign_in(http, world.user.email, return_to=return_to)
    answered = await http.get(return_to)
    assert answered.status_code in (302, 303), answered.text
    assert "code" in query_of(answered.headers["location"]), answered.headers["location"]
