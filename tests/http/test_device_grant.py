"""The device authorization grant over HTTP (RFC 8628; INTERFACE.md section 7), on SQLite
and PostgreSQL: the device authorization endpoint (section 3.1-3.2), the verification
pages (section 3.3, with INTERFACE.md section 5's page rules), polling (section 3.4-3.5:
authorization_pending, slow_down, access_denied, expired_token), single use, throttled
wrong user codes (section 5.1 and INTERFACE.md section 9) and discovery (section 4).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tessera.management import accounts
from tessera.settings import Settings
from tessera.storage import schema
from tessera.storage.audit import AuditFilter
from tessera.storage.client_rows import NewClient
from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, forms, query_of, sign_in, unisolated

pytestmark = pytest.mark.anyio

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
PER_USER = 3  # wrong user codes before the throttle's waits begin, in these tests
PER_ADDRESS = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(throttle_user_code_per_user=PER_USER, throttle_user_code_per_address=PER_ADDRESS)


@pytest.fixture
async def tv(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A public client allowed the device grant and refresh tokens: a TV app."""
    return await add_client(
        stores,
        world.account,
        clock(),
        name="Living Room TV",
        kind="public",
        grant_types=("device_code", "refresh_token"),
    )


@pytest.fixture
async def cli_tool(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A confidential client allowed only the device grant."""
    return await add_client(stores, world.account, clock(), name="Ops CLI", grant_types=("device_code",))


async def device_authorization(
    http: httpx.AsyncClient, client: RegisteredClient, scope: str = "read"
) -> dict[str, Any]:
    response = await request_codes(http, client, scope)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def request_codes(http: httpx.AsyncClient, client: RegisteredClient, scope: str = "read") -> httpx.Response:
    if client.secret is None:
        return await http.post("/oauth/device/code", data={"client_id": client.client_id, "scope": scope})
    return await http.post("/oauth/device/code", auth=client.basic(), data={"scope": scope})


async def poll(http: httpx.AsyncClient, client: RegisteredClient, device_code: str) -> httpx.Response:
    data = {"grant_type": DEVICE_GRANT, "device_code": device_code}
    if client.secret is None:
        return await http.post("/oauth/tokens", data={**data, "client_id": client.client_id})
    return await http.post("/oauth/tokens", auth=client.basic(), data=data)


def error_of(response: httpx.Response) -> str:
    assert response.status_code in (400, 401, 429), (response.status_code, response.text)
    return str(response.json()["error"])


async def enter_code(http: httpx.AsyncClient, user_code: str) -> httpx.Response:
    """The /device page's form, filled in with `user_code` and sent."""
    page = await http.get("/device")
    assert page.status_code == 200, page.text
    form = next(f for f in forms(page.text) if f.action == "/device")
    return await http.post("/device", data=dict(form.fields, user_code=user_code))


async def decide(http: httpx.AsyncClient, confirm_page: httpx.Response, decision: str) -> httpx.Response:
    """The decision sent, and the page it leads to: a decision taken is answered 303 to the
    GET that says what was decided (Post/Redirect/Get); a refusal is answered at once."""
    assert confirm_page.status_code == 200, confirm_page.text
    form = next(f for f in forms(confirm_page.text) if f.action == "/device/decision")
    sent = await http.post(form.action, data=dict(form.fields, decision=decision))
    if sent.status_code != 303:
        return sent
    assert sent.headers["location"].startswith("/device/decision?user_code="), sent.headers["location"]
    return await http.get(sent.headers["location"])


async def approve(http: httpx.AsyncClient, user_code: str, decision: str = "allow") -> httpx.Response:
    await sign_in(http, "user@example.com")
    done = await decide(http, await enter_code(http, user_code), decision)
    assert done.status_code == 200, done.text
    return done


# --- the device authorization endpoint (RFC 8628 sections 3.1 and 3.2) --------------------------------


async def test_the_device_authorization_response_has_every_field(
    http: httpx.AsyncClient, world: World, tv: RegisteredClient
) -> None:
    """RFC 8628 section 3.2, INTERFACE.md section 7: device_code tsd_..., user_code XXXX-XXXX of
    BCDFGHJKLMNPQRSTVWXZ, verification_uri ISSUER/device, its _complete form, 600 s, 5 s."""
    response = await request_codes(http, tv)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"  # as the token endpoint (section 5)
    body = response.json()
    assert body["device_code"].startswith("tsd_") and len(body["device_code"]) >= 4 + 43
    assert USER_CODE.match(body["user_code"]), body["user_code"]
    assert body["verification_uri"] == world.origin + "/device"
    assert body["verification_uri_complete"] == world.origin + "/device?user_code=" + body["user_code"]
    assert (body["expires_in"], body["interval"]) == (600, 5)


async def test_codes_are_stored_as_a_digest_and_a_normalised_user_code(
    http: httpx.AsyncClient, stores: Stores, tv: RegisteredClient
) -> None:
    """INTERFACE.md section 5: no issued code in plaintext in the database."""
    body = await device_authorization(http, tv)
    table = schema.device_codes
    row = await stores.db.read(
        lambda conn: conn.execute(sa.select(table).where(table.c.client_id == tv.client.id)).one()
    )
    assert body["device_code"].encode() not in row.digest and len(row.digest) == 32
    assert body["device_code"] not in " ".join(str(value) for value in row)
    assert row.user_code == body["user_code"].replace("-", "")


async def test_a_client_not_allowed_the_device_grant_is_unauthorized(http: httpx.AsyncClient, world: World) -> None:
    """RFC 8628 section 3.2 / RFC 6749 section 5.2: unauthorized_client."""
    response = await request_codes(http, world.web)
    assert error_of(response) == "unauthorized_client"
    assert "device_code" in response.json()["error_description"]


async def test_a_confidential_client_must_authenticate(http: httpx.AsyncClient, cli_tool: RegisteredClient) -> None:
    """RFC 8628 section 3.1: client authentication as at the token endpoint (RFC 6749 3.2.1)."""
    without = await http.post("/oauth/device/code", data={"client_id": cli_tool.client_id, "scope": "read"})
    assert (without.status_code, without.json()["error"]) == (401, "invalid_client")
    wrong = await http.post("/oauth/device/code", auth=(cli_tool.client_id, "tss_wrong"), data={"scope": "read"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert (await request_codes(http, cli_tool)).status_code == 200


async def test_an_unknown_scope_is_invalid_scope(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """RFC 8628 section 3.1 (scope as RFC 6749 section 3.3), INTERFACE.md "Scopes"."""
    assert error_of(await request_codes(http, tv, scope="read launch_missiles")) == "invalid_scope"


async def test_a_repeated_parameter_is_invalid_request(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """RFC 8628 section 3.1 via RFC 6749 section 3.1: parameters are sent once."""
    response = await http.post("/oauth/device/code", content=f"client_id={tv.client_id}&scope=read&scope=write",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert error_of(response) == "invalid_request"


# --- polling (RFC 8628 sections 3.4 and 3.5) ----------------------------------------------------------


async def test_polling_is_pending_and_too_fast_is_slow_down_adding_five_seconds(
    http: httpx.AsyncClient, tv: RegisteredClient, clock: Clock
) -> None:
    """RFC 8628 section 3.5: authorization_pending while the user has not decided; slow_down
    when polled sooner than the interval, which then grows by 5 s for all later requests."""
    body = await device_authorization(http, tv)
    assert error_of(await poll(http, tv, body["device_code"])) == "authorization_pending"
    assert error_of(await poll(http, tv, body["device_code"])) == "slow_down"  # at once: interval 5 -> 10
    clock.advance(6)  # enough for the old interval, not for the new one
    response = await poll(http, tv, body["device_code"])
    assert error_of(response) == "slow_down"  # interval 10 -> 15
    assert "15 seconds" in response.json()["error_description"]
    clock.advance(15)
    assert error_of(await poll(http, tv, body["device_code"])) == "authorization_pending"


async def test_allowed_device_gets_the_usual_tokens_once(
    http: httpx.AsyncClient, stores: Stores, world: World, tv: RegisteredClient, clock: Clock
) -> None:
    """RFC 8628 section 3.5 and INTERFACE.md section 7: the usual token response, refresh
    token and id_token as for the code grant; a device code is redeemed at most once."""
    body = await device_authorization(http, tv, scope="read openid email")
    assert error_of(await poll(http, tv, body["device_code"])) == "authorization_pending"
    await approve(http, body["user_code"])
    clock.advance(5)
    response = await poll(http, tv, body["device_code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["access_token"].startswith("tsa_") and tokens["refresh_token"].startswith("tsr_")
    assert tokens["token_type"] == "bearer" and tokens["scope"] == "read openid email"
    assert tokens["id_token"].count(".") == 2
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["user"]["email"] == "user@example.com"
    clock.advance(5)
    again = await poll(http, tv, body["device_code"])
    assert error_of(again) == "invalid_grant" and "already used" in again.json()["error_description"]
    refreshed = await http.post(
        "/oauth/tokens",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": tv.client_id},
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_consent_through_the_device_page_is_audited_as_on_the_consent_page(
    http: httpx.AsyncClient, stores: Stores, world: World, tv: RegisteredClient
) -> None:
    """INTERFACE.md section 6 ("app authorized (consent)"), given on the device page."""
    body = await device_authorization(http, tv, scope="read")
    done = await approve(http, body["user_code"])
    assert "Go back to your device" in done.text
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(action="authorize"))
    assert len(logs) == 1
    entry = logs[0].entry
    assert (entry.source_type, entry.source_id, entry.source_label) == ("oauth_consent", tv.client.id, "Living Room TV")
    assert entry.actor_id == world.user.id and "read" in entry.change_description.split()
    assert body["user_code"].replace("-", "") not in str(entry)


async def test_a_denied_device_gets_access_denied(
    http: httpx.AsyncClient, stores: Stores, world: World, tv: RegisteredClient
) -> None:
    """RFC 8628 section 3.5: access_denied once the user said no; no consent recorded."""
    body = await device_authorization(http, tv)
    done = await approve(http, body["user_code"], decision="deny")
    assert "Access denied" in done.text
    response = await poll(http, tv, body["device_code"])
    assert (response.status_code, response.json()["error"]) == (400, "access_denied")
    assert not await stores.audit.newest_first(world.account.id, AuditFilter(action="authorize"))


async def test_an_expired_device_code_is_expired_token(
    http: httpx.AsyncClient, tv: RegisteredClient, clock: Clock
) -> None:
    """RFC 8628 section 3.5: expired_token after expires_in; and the user code is gone too."""
    body = await device_authorization(http, tv)
    clock.advance(601)
    assert error_of(await poll(http, tv, body["device_code"])) == "expired_token"
    await sign_in(http, "user@example.com")
    assert (await enter_code(http, body["user_code"])).status_code == 400


async def test_unknown_and_other_clients_device_codes_are_invalid_grant(
    http: httpx.AsyncClient, tv: RegisteredClient, cli_tool: RegisteredClient
) -> None:
    """RFC 8628 section 3.5 / RFC 6749 section 5.2: invalid_grant."""
    body = await device_authorization(http, tv)
    assert error_of(await poll(http, tv, "tsd_" + "A" * 43)) == "invalid_grant"
    other = await poll(http, cli_tool, body["device_code"])
    assert error_of(other) == "invalid_grant" and "another client" in other.json()["error_description"]
    missing = await http.post("/oauth/tokens", data={"grant_type": DEVICE_GRANT, "client_id": tv.client_id})
    assert error_of(missing) == "invalid_request"


async def test_the_token_endpoint_refuses_the_grant_to_a_client_not_allowed_it(
    http: httpx.AsyncClient, world: World, tv: RegisteredClient
) -> None:
    """RFC 6749 section 5.2: unauthorized_client, before the device code is looked at."""
    body = await device_authorization(http, tv)
    assert error_of(await poll(http, world.web, body["device_code"])) == "unauthorized_client"


# --- the verification pages (RFC 8628 section 3.3; INTERFACE.md sections 5 and 7) ---------------------


async def test_the_device_page_sends_a_stranger_to_sign_in_and_back(
    http: httpx.AsyncClient, tv: RegisteredClient
) -> None:
    """INTERFACE.md section 7: sign in first; the login page returns to the code."""
    body = await device_authorization(http, tv)
    page = await http.get("/device", params={"user_code": body["user_code"]})
    assert page.status_code == 302
    back = query_of(page.headers["location"])["return_to"]
    assert back == "/device?user_code=" + body["user_code"]
    login = await http.get(page.headers["location"])
    assert "to connect a device to your account" in login.text
    signed = await sign_in(http, "user@example.com", return_to=back)
    assert signed.headers["location"] == back
    filled = await http.get(back)
    field = next(f for f in forms(filled.text) if f.action == "/device").fields
    assert field["user_code"] == body["user_code"]  # filled in, not acted on (RFC 8628 section 5.4)


async def test_the_user_code_is_matched_without_case_dashes_or_spaces(
    http: httpx.AsyncClient, tv: RegisteredClient
) -> None:
    """INTERFACE.md section 7; RFC 8628 section 6.1."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    typed = " " + body["user_code"].replace("-", " ").lower()[:6] + body["user_code"].lower()[6:] + " "
    confirm = await enter_code(http, typed)
    assert confirm.status_code == 200, confirm.text
    assert "Living Room TV" in confirm.text and body["user_code"] in confirm.text
    assert "Read" in confirm.text  # the scope, in words as on the consent page


async def test_device_pages_carry_the_page_headers_and_no_cors(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """INTERFACE.md section 5: no framing, no referrer, no caching, no CORS on HTML pages."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    pages = [await http.get("/device"), await enter_code(http, body["user_code"])]
    pages.append(await decide(http, pages[-1], "allow"))
    pages.append(await enter_code(http, "BBBB-BBBB"))
    for page in pages:
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "access-control-allow-origin" not in page.headers


async def test_device_forms_need_their_csrf_token(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """INTERFACE.md section 5: a form POST without its CSRF token is refused."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    assert (await http.post("/device", data={"user_code": body["user_code"]})).status_code == 403
    forged = await http.post(
        "/device/decision", data={"user_code": body["user_code"], "decision": "allow", "authenticity_token": "x"}
    )
    assert forged.status_code == 403
    assert error_of(await poll(http, tv, body["device_code"])) == "authorization_pending"


async def test_a_code_decides_once(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """RFC 8628 section 3.3: once allowed, the user code is spent; a second tab's Deny fails."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    confirm = await enter_code(http, body["user_code"])
    assert (await decide(http, confirm, "allow")).status_code == 200
    late = await decide(http, confirm, "deny")
    assert late.status_code == 400 and "not right, or it has expired" in late.text
    assert (await poll(http, tv, body["device_code"])).status_code == 200


async def test_reloading_the_decided_page_says_the_same_and_counts_no_wrong_code(
    http: httpx.AsyncClient, tv: RegisteredClient, settings: Settings
) -> None:
    """The page after Allow is a GET: reloading it (or coming back to it) shows the decision
    again. It used to be the POST's own answer, which a reload sent again: "not right", and
    one more wrong code each time, until the user was throttled."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    done = await decide(http, await enter_code(http, body["user_code"]), "allow")
    assert done.status_code == 200 and "Device connected" in unisolated(done.text)
    for _ in range(settings.throttle_user_code_per_user + 2):
        again = await http.get(str(done.url))
        assert again.status_code == 200 and "Device connected" in unisolated(again.text)
    # Another user's view of the same code shows nothing of it: the code entry page.
    await sign_in(http, "admin@example.com")
    other = await http.get(str(done.url))
    assert other.status_code == 200 and "Device connected" not in unisolated(other.text)
    assert 'name="user_code"' in other.text
    # And the user was never counted: a new device's code is still accepted.
    await sign_in(http, "user@example.com")
    second = await device_authorization(http, tv)
    assert (await enter_code(http, second["user_code"])).status_code == 200


async def test_wrong_user_codes_are_throttled_per_user(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """RFC 8628 section 5.1, INTERFACE.md section 9: wrong codes counted per user; past the
    limit a 429 page says when to try again, and even the right code waits."""
    body = await device_authorization(http, tv)
    await sign_in(http, "user@example.com")
    for _ in range(PER_USER - 1):
        wrong = await enter_code(http, "BBBB-BBBB")
        assert wrong.status_code == 400 and "not right" in wrong.text
    assert (await enter_code(http, "BBBB-BBBC")).status_code == 400  # the limit-th failure
    refused = await enter_code(http, body["user_code"])
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert "Try again in" in refused.text
    # The decision form is no way around it.
    decision = await http.post(
        "/device/decision",
        data={
            "user_code": body["user_code"],
            "decision": "allow",
            "authenticity_token": next(f for f in forms((await http.get("/device")).text)).fields["authenticity_token"],
        },
    )
    assert decision.status_code == 429
    assert error_of(await poll(http, tv, body["device_code"])) == "authorization_pending"


async def test_wrong_user_codes_are_throttled_per_address(
    http: httpx.AsyncClient, app: Any, world: World, tv: RegisteredClient
) -> None:
    """RFC 8628 section 5.1, INTERFACE.md section 9: also per source address, across users."""
    body = await device_authorization(http, tv)
    transport = httpx.ASGITransport(app=app)  # the same address (the transport's default peer)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as other:
        await sign_in(http, "user@example.com")
        await sign_in(other, "admin@example.com")
        for browser in (http, http, other, other, http):  # 5 wrong codes, no user past its own limit
            assert (await enter_code(browser, "BBBB-BBBB")).status_code == 400
        refused = await enter_code(other, body["user_code"])
        assert refused.status_code == 429 and "from this network" in refused.text


async def test_a_right_code_costs_no_attempt(http: httpx.AsyncClient, tv: RegisteredClient) -> None:
    """INTERFACE.md section 9: only wrong codes count; many devices in a row are fine."""
    await sign_in(http, "user@example.com")
    for _ in range(PER_USER + 2):
        body = await device_authorization(http, tv)
        assert (await enter_code(http, body["user_code"])).status_code == 200


async def test_a_self_registered_app_is_marked_unverified(
    http: httpx.AsyncClient, stores: Stores, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 8: "this app registered itself; its name is not verified"."""
    client = await stores.clients.create(
        NewClient(
            account_id=world.account.id, identifier="self-made-tv", name="Totally Official TV", description="",
            company="", logo_url="", redirect_uris=(), kind="public", grant_types=("device_code",),
            allowed_scopes=(), access_token_lifetime=1800, refresh_token_lifetime=2_592_000,
            access_token_format="opaque", introspection=False, user_id=None, secret_hash=None, secret_prefix="",
            registration="dynamic",
        ),
        clock(),
    )  # fmt: skip
    body = await device_authorization(http, RegisteredClient(client, None))
    await sign_in(http, "user@example.com")
    confirm = await enter_code(http, body["user_code"])
    assert "This app registered itself; its name is not verified." in confirm.text
    admin_made = await device_authorization(http, await add_client(stores, world.account, clock(),
                                            kind="public", grant_types=("device_code",)))  # fmt: skip
    assert "registered itself" not in (await enter_code(http, admin_made["user_code"])).text


# --- discovery (RFC 8628 section 4) --------------------------------------------------------------------


async def test_discovery_names_the_device_endpoint_and_grant(http: httpx.AsyncClient, world: World) -> None:
    """RFC 8628 section 4, INTERFACE.md section 7."""
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        metadata = (await http.get(path)).json()
        assert metadata["device_authorization_endpoint"] == world.origin + "/oauth/device/code"
        assert DEVICE_GRANT in metadata["grant_types_supported"]


async def test_a_typed_code_is_escaped_where_it_is_shown_again(http: httpx.AsyncClient) -> None:
    """INTERFACE.md section 5 (pages): a reflected value is escaped, in the field and the login link."""
    await sign_in(http, "user@example.com")
    xss = '"><script>alert(1)</script>'
    for page in (await http.get("/device", params={"user_code": xss}), await enter_code(http, xss)):
        assert "<script>alert(1)" not in page.text
        assert "&lt;script&gt;" in page.text or "%3Cscript%3E" in page.text


async def test_a_metadata_document_client_id_is_told_the_device_grant_is_not_for_it(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """A client ID metadata document describes a browser-based client: the device
    authorization endpoint refuses its URL as invalid_client saying so, not as an unknown
    identifier (under the off policy it stays unknown, INTERFACE.md section 8)."""
    await accounts.set_registration_policy(stores, world.subdomain, "open")
    response = await http.post(
        "/oauth/device/code", data={"client_id": "https://app.example/client.json", "scope": "read"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert "metadata document" in response.json()["error_description"]
    assert "authorization endpoint" in response.json()["error_description"]
