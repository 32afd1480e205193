"""protocol/resource_indicators.py and its use by the grants, over the in-memory ports:
RFC 8707 sections 2, 2.1 and 2.2; RFC 9068 section 3 (aud); INTERFACE.md section 8.

The resource values are RFC 8707's own examples (sections 2.1 and 2.2):
https://api.example.com/app/, https://cal.example.com/, https://contacts.example.com/.
"""

from __future__ import annotations

import dataclasses

import pytest

from tessera.model import AccessToken, Resource
from tessera.protocol import bearer, resource_indicators, resource_metadata, secrets
from tessera.protocol.errors import InvalidScope, InvalidTarget, InvalidToken
from tessera.protocol.grants import authorization_code, client_credentials, password, refresh_token
from tessera.protocol.resource_indicators import Target
from tests.unit.builders import ACCOUNT_ID, ISSUER, make_token
from tests.unit.memory_server import (
    CLIENT_CREDENTIALS_REQUEST,
    CODE_REQUEST,
    PASSWORD_REQUEST,
    REFRESH_REQUEST,
    Server,
    server,
)

pytestmark = pytest.mark.anyio

APP = "https://api.example.com/app/"
CAL = "https://cal.example.com/"
CONTACTS = "https://contacts.example.com/"
API = ISSUER + "/api/v2"
EVERY_GRANT = frozenset({"client_credentials", "authorization_code", "refresh_token", "password"})


def _register(s: Server, uri: str, *scopes: str) -> Resource:
    return s.stores.resources.add(Resource(len(uri), ACCOUNT_ID, uri, uri, scopes, 1_000.0))


class CountingResources:
    """A resource store that counts lookups: a request without resource must make none."""

    def __init__(self) -> None:
        self.calls = 0

    async def find(self, account_id: int, uris: tuple[str, ...]) -> dict[str, Resource]:
        self.calls += 1
        return {}


async def _stored(s: Server, body: dict[str, object]) -> AccessToken:
    token = await s.stores.tokens.find_access(secrets.digest(str(body["access_token"])))
    assert token is not None
    return token


# --- the parameter (section 2) ----------------------------------------------------------


def test_section_2_values_are_absolute_uris_in_order_without_repeats() -> None:
    raw = f"{CAL} {CONTACTS} {CAL}"
    assert resource_indicators.requested({"resource": raw}) == (CAL, CONTACTS)
    assert resource_indicators.requested({}) == ()


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (APP + "#section", "fragment"),
        ("/app/", "not an absolute URI"),
        ("api.example.com", "not an absolute URI"),
        ("https://[::1", "not an absolute URI"),
    ],
)
def test_section_2_a_fragment_or_a_relative_reference_is_invalid_target(value: str, said: str) -> None:
    """Section 2: "MUST be an absolute URI ... MUST NOT include a fragment component"."""
    with pytest.raises(InvalidTarget, match=said):
        resource_indicators.requested({"resource": value})


def test_too_many_resources_are_refused() -> None:
    many = " ".join(f"https://r{i}.example/" for i in range(resource_indicators.MAX_RESOURCES + 1))
    with pytest.raises(InvalidTarget, match="at most"):
        resource_indicators.requested({"resource": many})


def test_the_aud_claim_is_a_string_or_an_array_rfc9068_2_2() -> None:
    assert resource_indicators.aud_claim((), ISSUER) == API  # the default resource
    assert resource_indicators.aud_claim((CAL,), ISSUER) == CAL
    assert resource_indicators.aud_claim((CAL, CONTACTS), ISSUER) == [CAL, CONTACTS]


# --- resolving against the account's resources -------------------------------------------


async def test_the_account_api_needs_no_lookup_and_is_stored_as_the_default() -> None:
    store = CountingResources()
    assert await resource_indicators.resolve((), ACCOUNT_ID, ISSUER, store) == Target()
    assert await resource_indicators.resolve((API,), ACCOUNT_ID, ISSUER, store) == Target()
    assert store.calls == 0


async def test_an_unregistered_resource_is_invalid_target_naming_it() -> None:
    with pytest.raises(InvalidTarget, match=CAL):
        await resource_indicators.resolve((API, CAL), ACCOUNT_ID, ISSUER, CountingResources())


def test_section_2_2_a_token_request_may_keep_or_narrow_never_widen() -> None:
    granted = (CAL, CONTACTS)
    assert resource_indicators.within((), granted, ISSUER) == granted
    assert resource_indicators.within((CONTACTS,), granted, ISSUER) == (CONTACTS,)
    with pytest.raises(InvalidTarget, match=APP):
        resource_indicators.within((CAL, APP), granted, ISSUER)
    # The empty grant is the account's API: it may be named, nothing else may.
    assert resource_indicators.within((API,), (), ISSUER) == ()
    with pytest.raises(InvalidTarget):
        resource_indicators.within((CAL,), (), ISSUER)


def test_a_resources_scopes_narrow_the_token() -> None:
    only_tickets = Target(audience=(CAL,), limits=((CAL, ("tickets:read",)),))
    # A broad scope yields the narrower one the resource allows; OIDC scopes are kept.
    assert resource_indicators.limit_scopes(("openid", "read"), only_tickets) == ("openid", "tickets:read")
    assert resource_indicators.limit_scopes(("tickets:read",), only_tickets) == ("tickets:read",)
    with pytest.raises(InvalidScope, match="allows: tickets:read"):
        resource_indicators.limit_scopes(("write",), only_tickets)
    assert resource_indicators.limit_scopes(("write",), Target(audience=(CAL,))) == ("write",)


def test_several_limits_keep_what_every_resource_allows() -> None:
    both = Target(audience=(CAL, CONTACTS), limits=((CAL, ("read",)), (CONTACTS, ("users:read", "tickets:write"))))
    assert resource_indicators.limit_scopes(("read", "write"), both) == ("users:read",)


# --- the grants ---------------------------------------------------------------------------


async def test_client_credentials_without_resource_makes_no_lookup() -> None:
    """The hot path: no resource parameter, no query (DESIGN.md, performance)."""
    s = server(grant_types=EVERY_GRANT)
    counting = CountingResources()
    ctx = dataclasses.replace(s.ctx, resources=counting)
    body = await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST), ctx)
    assert (await _stored(s, body)).audience == ()
    assert counting.calls == 0


async def test_client_credentials_for_a_registered_resource() -> None:
    s = server(grant_types=EVERY_GRANT)
    _register(s, CAL, "tickets:read")
    body = await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST | {"resource": CAL}), s.ctx)
    assert (await _stored(s, body)).audience == (CAL,)
    assert body["scope"] == "tickets:read"  # read write, as the resource allows
    with pytest.raises(InvalidTarget, match=CONTACTS):
        await client_credentials.handle(s.request(CLIENT_CREDENTIALS_REQUEST | {"resource": CONTACTS}), s.ctx)


async def test_password_for_a_registered_resource() -> None:
    s = server(grant_types=EVERY_GRANT)
    _register(s, APP)
    body = await password.handle(s.request(PASSWORD_REQUEST | {"resource": APP}), s.ctx)
    assert (await _stored(s, body)).audience == (APP,)


async def test_section_2_1_the_code_grant_gets_what_was_authorized_or_less() -> None:
    s = server(grant_types=EVERY_GRANT)
    _register(s, CAL)
    _register(s, CONTACTS)
    await s.add_code(audience=(CAL, CONTACTS))
    body = await authorization_code.handle(s.request(CODE_REQUEST | {"resource": CAL}), s.ctx)
    assert (await _stored(s, body)).audience == (CAL,)
    refresh = await s.stores.tokens.find_refresh(secrets.digest(str(body["refresh_token"])))
    assert refresh is not None and refresh.audience == (CAL, CONTACTS)  # the whole grant, for later


async def test_section_2_1_the_code_grant_refuses_another_resource() -> None:
    s = server(grant_types=EVERY_GRANT)
    await s.add_code(audience=(CAL,))
    with pytest.raises(InvalidTarget, match=CONTACTS):
        await authorization_code.handle(s.request(CODE_REQUEST | {"resource": CONTACTS}), s.ctx)


async def test_section_2_2_a_refresh_narrows_and_keeps_the_grant() -> None:
    s = server(grant_types=EVERY_GRANT)
    _register(s, CAL)
    _register(s, CONTACTS)
    await s.add_refresh_token(audience=(CAL, CONTACTS))
    body = await refresh_token.handle(s.request(REFRESH_REQUEST | {"resource": CONTACTS}), s.ctx)
    assert (await _stored(s, body)).audience == (CONTACTS,)
    rotated = await s.stores.tokens.find_refresh(secrets.digest(str(body["refresh_token"])))
    assert rotated is not None and rotated.audience == (CAL, CONTACTS)


async def test_section_2_2_a_refresh_never_widens() -> None:
    s = server(grant_types=EVERY_GRANT)
    await s.add_refresh_token(audience=(CAL,))
    with pytest.raises(InvalidTarget, match=APP):
        await refresh_token.handle(s.request(REFRESH_REQUEST | {"resource": APP}), s.ctx)


# --- the API, and its metadata ------------------------------------------------------------


def test_the_api_refuses_a_token_for_another_resource() -> None:
    bearer.require_audience(make_token(), ISSUER)  # the default audience is the API
    bearer.require_audience(make_token(audience=(API, CAL)), ISSUER)
    with pytest.raises(InvalidToken, match=f"is for {CAL}, not for this API"):
        bearer.require_audience(make_token(audience=(CAL,)), ISSUER)


def test_rfc9728_2_the_metadata_names_the_api_and_its_server() -> None:
    doc = resource_metadata.metadata(ISSUER, "Acme")
    assert doc["resource"] == API and doc["authorization_servers"] == [ISSUER]
    assert resource_metadata.url(ISSUER) == ISSUER + "/.well-known/oauth-protected-resource/api/v2"


async def test_a_refresh_for_a_resource_no_longer_registered_is_invalid_target() -> None:
    s = server(grant_types=EVERY_GRANT)
    await s.add_refresh_token(audience=(CAL,))
    with pytest.raises(InvalidTarget, match=CAL):
        await refresh_token.handle(s.request(REFRESH_REQUEST), s.ctx)


async def test_a_code_for_a_registered_resource_gets_its_scopes_and_the_refresh_keeps_the_grant() -> None:
    s = server(grant_types=EVERY_GRANT)
    _register(s, CAL, "tickets:read")
    await s.add_code(audience=(CAL,), scopes=("read",))
    body = await authorization_code.handle(s.request(CODE_REQUEST), s.ctx)
    assert body["scope"] == "tickets:read"
    refresh = await s.stores.tokens.find_refresh(secrets.digest(str(body["refresh_token"])))
    assert refresh is not None and refresh.scopes == ("read",)
