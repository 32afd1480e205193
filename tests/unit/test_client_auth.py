"""tessera/protocol/client_auth.py: RFC 6749 sections 2.3, 2.3.1, 3.2.1 and 5.2; RFC 7617 section 2."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.model import Client
from tessera.protocol import client_auth
from tessera.protocol.client_auth import BASIC, NONE, POST, ClientAuthenticationFailed, ClientCredentials
from tessera.protocol.errors import InvalidClient, InvalidRequest
from tests.unit.builders import PROPERTY, SECRET, make_client, make_public_client, vector

NOW = 2_000_000_000.0
# A secret replaced by SECRET, and its SHA-256 digest computed once with hashlib, outside the
# code under test.
PREVIOUS_SECRET = "tss_Qm8vTz2LxKc5Rj7Pw1Nd9Hb4Fg6Ys3Ae0UoJi8WlE2t"
PREVIOUS_SECRET_SHA256_HEX = "7899d3a3691891ba93c41fe47cb4270832a52aa08a58dcc1459b7800d8b800a1"

RFC6749 = vector("rfc6749_examples")["client_secret_basic"]
RFC7617 = vector("rfc7617_examples")["basic"]

# base64(b"my+client:p%3Aa%2Bs%25s+w"): client_id "my client" and secret "p:a+s%s w", each
# application/x-www-form-urlencoded as RFC 6749 section 2.3.1 requires, encoded by hand.
ENCODED_BASIC = "Basic bXkrY2xpZW50OnAlM0FhJTJCcyUyNXMrdw=="


# --- parse(): client_secret_basic ------------------------------------------------------------


def test_rfc6749_basic_example() -> None:
    """RFC 6749 section 2.3.1: "Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"."""
    credentials = client_auth.parse(RFC6749["authorization"], {})
    assert credentials == ClientCredentials(RFC6749["client_id"], RFC6749["client_secret"], BASIC)
    assert credentials.used_basic


def test_rfc7617_basic_example() -> None:
    """RFC 7617 section 2: "Aladdin" / "open sesame" (a space survives form-urlencoded decoding)."""
    credentials = client_auth.parse(RFC7617["authorization"], {})
    assert (credentials.client_id, credentials.secret) == (RFC7617["user_id"], RFC7617["password"])


def test_basic_parts_are_form_urlencoded() -> None:
    """RFC 6749 section 2.3.1: client_id and secret are encoded with application/x-www-form-urlencoded
    before Basic, so ':' '+' '%' and spaces arrive as %3A %2B %25 and '+'."""
    credentials = client_auth.parse(ENCODED_BASIC, {})
    assert credentials == ClientCredentials("my client", "p:a+s%s w", BASIC)


def test_a_literal_plus_in_basic_decodes_to_a_space() -> None:
    """RFC 6749 section 2.3.1 (form-urlencoding): an unencoded '+' means a space."""
    header = "Basic " + base64.b64encode(b"acme_web:a+b").decode()
    assert client_auth.parse(header, {}).secret == "a b"


def test_only_the_first_colon_separates_id_from_secret() -> None:
    """RFC 7617 section 2: the user-id cannot contain ':'; the password may."""
    header = "Basic " + base64.b64encode(b"acme_web:x:y:z").decode()
    assert client_auth.parse(header, {}) == ClientCredentials("acme_web", "x:y:z", BASIC)


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_basic_scheme_is_case_insensitive(scheme: str) -> None:
    """RFC 7235 section 2.1 / RFC 7617 section 2: the auth-scheme is case-insensitive."""
    header = RFC6749["authorization"].replace("Basic", scheme, 1)
    assert client_auth.parse(header, {}).client_id == RFC6749["client_id"]


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW!",  # trailing garbage
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:secret").decode(),  # not UTF-8
        "Basic",
        "Basic ",
    ],
)
def test_malformed_basic_is_invalid_client_with_basic_challenge(header: str) -> None:
    """RFC 6749 section 5.2: failed client authentication is invalid_client (401), and since the client used
    Basic the answer carries WWW-Authenticate: Basic (used_basic)."""
    with pytest.raises(ClientAuthenticationFailed) as caught:
        client_auth.parse(header, {})
    assert caught.value.error == "invalid_client"
    assert caught.value.status_code == 401
    assert caught.value.used_basic is True


def test_basic_with_empty_client_id_is_refused() -> None:
    """RFC 6749 section 2.3.1: the client identifier is the Basic username; it cannot be empty."""
    with pytest.raises(ClientAuthenticationFailed, match="empty client_id") as caught:
        client_auth.parse("Basic " + base64.b64encode(b":secret").decode(), {})
    assert caught.value.used_basic is True


def test_secret_in_basic_and_body_is_invalid_request() -> None:
    """RFC 6749 section 2.3: "The client MUST NOT use more than one authentication method in each request"."""
    with pytest.raises(InvalidRequest, match="both") as caught:
        client_auth.parse(RFC6749["authorization"], {"client_secret": RFC6749["client_secret"]})
    assert caught.value.error == "invalid_request"
    assert not isinstance(caught.value, InvalidClient)


def test_body_client_id_naming_the_same_client_is_accepted() -> None:
    """INTERFACE.md "Token endpoint": a body client_id beside Basic is accepted when it names the same client
    (as requests-oauthlib sends it); compared after form-urldecoding the Basic part."""
    assert client_auth.parse(RFC6749["authorization"], {"client_id": RFC6749["client_id"]}).method == BASIC
    assert client_auth.parse(ENCODED_BASIC, {"client_id": "my client"}).client_id == "my client"


def test_body_client_id_naming_another_client_is_invalid_request() -> None:
    """RFC 6749 section 3.2.1 / INTERFACE.md: a body client_id that differs from Basic's is refused."""
    with pytest.raises(InvalidRequest, match="different client"):
        client_auth.parse(RFC6749["authorization"], {"client_id": "someone_else"})


_NO_NUL = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))


@PROPERTY
@given(st.text(_NO_NUL, min_size=1, max_size=40), st.text(_NO_NUL, max_size=60))
def test_basic_round_trips_any_form_urlencoded_id_and_secret(client_id: str, secret: str) -> None:
    """RFC 6749 section 2.3.1 (property): whatever a client encodes (urlencode, ':', base64) parses
    back; NUL, which no Tessera identifier or secret contains, is the one refusal (next test)."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    credentials = client_auth.parse("Basic " + base64.b64encode(raw).decode(), {})
    assert (credentials.client_id, credentials.secret, credentials.method) == (client_id, secret, BASIC)


@pytest.mark.parametrize(("client_id", "secret"), [("web%00", "s"), ("web", "s%00"), ("%00", "")])
def test_basic_credentials_holding_nul_are_refused(client_id: str, secret: str) -> None:
    """A NUL cannot be stored or compared as text (PostgreSQL refuses it): invalid_client."""
    header = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    with pytest.raises(ClientAuthenticationFailed, match="NUL"):
        client_auth.parse(header, {})


# --- parse(): client_secret_post and none ----------------------------------------------------


def test_secret_in_body_is_client_secret_post() -> None:
    """RFC 6749 section 2.3.1: client_id and client_secret in the request body."""
    credentials = client_auth.parse(None, {"client_id": "acme_web", "client_secret": SECRET})
    assert credentials == ClientCredentials("acme_web", SECRET, POST)
    assert not credentials.used_basic


def test_client_id_alone_is_method_none() -> None:
    """RFC 6749 section 3.2.1: a public client identifies itself with client_id only."""
    assert client_auth.parse(None, {"client_id": "acme_spa"}) == ClientCredentials("acme_spa", None, NONE)


def test_non_basic_authorization_header_leaves_body_credentials() -> None:
    """RFC 6749 section 2.3: only the Basic scheme carries client credentials in the header."""
    assert client_auth.parse("Bearer abc", {"client_id": "acme_spa"}).method == NONE


@pytest.mark.parametrize("body", [{}, {"client_secret": SECRET}, {"client_id": "", "client_secret": SECRET}])
def test_no_client_id_at_all_is_invalid_client_without_basic_challenge(body: dict[str, str]) -> None:
    """RFC 6749 section 5.2: no client authentication -> invalid_client; no Basic was used, so no Basic challenge."""
    with pytest.raises(ClientAuthenticationFailed, match="client authentication is required") as caught:
        client_auth.parse(None, body)
    assert caught.value.used_basic is False


# --- authenticate() --------------------------------------------------------------------------


@pytest.mark.parametrize("method", [BASIC, POST])
def test_right_secret_authenticates(method: str) -> None:
    """RFC 6749 section 2.3.1: the confidential client presents its secret."""
    client_auth.authenticate(make_client(), ClientCredentials("acme_web", SECRET, method), now=NOW)  # raises if refused


@pytest.mark.parametrize(("method", "used_basic"), [(BASIC, True), (POST, False)])
def test_wrong_secret_is_invalid_client(method: str, used_basic: bool) -> None:
    """RFC 6749 section 5.2: invalid_client, with the Basic challenge only when Basic was used."""
    with pytest.raises(ClientAuthenticationFailed, match="client_secret is wrong") as caught:
        client_auth.authenticate(make_client(), ClientCredentials("acme_web", SECRET + "x", method), now=NOW)
    assert caught.value.used_basic is used_basic
    assert "acme_web" in caught.value.description
    assert SECRET not in caught.value.description


def test_confidential_client_that_has_no_secret_yet_says_how_to_get_one() -> None:
    """A public client made confidential has no secret until an admin generates one: the
    error says so, rather than calling the secret sent wrong."""
    client = make_client(secret_hash=None, secret_prefix="")
    with pytest.raises(ClientAuthenticationFailed, match="has no secret yet") as caught:
        client_auth.authenticate(client, ClientCredentials("acme_web", SECRET, BASIC), now=NOW)
    assert "rotate-secret" in caught.value.description
    assert caught.value.used_basic


def test_confidential_client_without_secret_is_refused() -> None:
    """RFC 6749 section 3.2.1: "Confidential clients ... MUST authenticate with the authorization server"."""
    with pytest.raises(ClientAuthenticationFailed, match="confidential"):
        client_auth.authenticate(make_client(), ClientCredentials("acme_web", None, NONE), now=NOW)


def test_confidential_client_without_stored_secret_is_refused() -> None:
    """RFC 6749 section 2.3.1: a secret cannot match a client that has none stored."""
    client = make_client(secret_hash=None)
    with pytest.raises(ClientAuthenticationFailed):
        client_auth.authenticate(client, ClientCredentials("acme_web", SECRET, POST), now=NOW)


def test_public_client_with_client_id_only_is_accepted() -> None:
    """RFC 6749 section 3.2.1 / INTERFACE.md: `client_id` alone for public clients (method none)."""
    client_auth.authenticate(
        make_public_client(), ClientCredentials("acme_spa", None, NONE), now=NOW
    )  # raises if refused


@pytest.mark.parametrize("method", [BASIC, POST])
def test_public_client_sending_a_secret_is_refused(method: str) -> None:
    """RFC 6749 section 2.1: a public client has no secret; one presented is a client mix-up, invalid_client."""
    with pytest.raises(ClientAuthenticationFailed, match="public client") as caught:
        client_auth.authenticate(make_public_client(), ClientCredentials("acme_spa", "anything", method), now=NOW)
    assert caught.value.used_basic is (method == BASIC)


# --- the previous secret (INTERFACE.md section 6, generate_secret) -----------------------------


def _rolled(expires_at: float | None) -> Client:
    """A client whose secret was regenerated: the previous one works until `expires_at`."""
    return make_client(
        previous_secret_hash=bytes.fromhex(PREVIOUS_SECRET_SHA256_HEX), previous_secret_expires_at=expires_at
    )


@pytest.mark.parametrize("method", [BASIC, POST])
def test_previous_secret_works_before_it_expires(method: str) -> None:
    """INTERFACE.md section 6: "the old secret keeps working N more seconds, so an app can roll its
    secret without downtime"."""
    client = _rolled(expires_at=NOW + 60)
    client_auth.authenticate(client, ClientCredentials("acme_web", PREVIOUS_SECRET, method), now=NOW)
    client_auth.authenticate(client, ClientCredentials("acme_web", PREVIOUS_SECRET, method), now=NOW + 59.999)
    client_auth.authenticate(client, ClientCredentials("acme_web", SECRET, method), now=NOW)  # the new one too


@pytest.mark.parametrize("offset", [0.0, 0.001, 3600.0])
def test_previous_secret_is_refused_from_its_expiry_on(offset: float) -> None:
    """INTERFACE.md section 6: N more seconds, not N and a moment: at the expiry instant it is refused."""
    client = _rolled(expires_at=NOW)
    with pytest.raises(ClientAuthenticationFailed, match="client_secret is wrong"):
        client_auth.authenticate(client, ClientCredentials("acme_web", PREVIOUS_SECRET, POST), now=NOW + offset)
    client_auth.authenticate(client, ClientCredentials("acme_web", SECRET, POST), now=NOW + offset)


def test_previous_secret_without_expiry_is_refused() -> None:
    """A previous secret is only ever accepted for a stated time (previous_secret_expires_in 0: not at all)."""
    with pytest.raises(ClientAuthenticationFailed):
        client_auth.authenticate(
            _rolled(expires_at=None), ClientCredentials("acme_web", PREVIOUS_SECRET, POST), now=NOW
        )


def test_previous_secret_compares_whole() -> None:
    """DESIGN.md rule 7: compared like the current secret, whole; a near miss is refused."""
    client = _rolled(expires_at=NOW + 60)
    for near in (PREVIOUS_SECRET[:-1], PREVIOUS_SECRET + "x", PREVIOUS_SECRET.upper()):
        with pytest.raises(ClientAuthenticationFailed):
            client_auth.authenticate(client, ClientCredentials("acme_web", near, POST), now=NOW)


# --- unknown_client() --------------------------------------------------------------------------


def test_numeric_id_names_the_identifier_to_send() -> None:
    """INTERFACE.md "Lessons from the field": a numeric client_id matching a client's id says to send its
    identifier (RFC 6749 section 5.2 invalid_client)."""
    error = client_auth.unknown_client("42", make_client(), used_basic=True)
    assert error.error == "invalid_client"
    assert error.used_basic is True
    assert "numeric id" in error.description
    assert "'acme_web'" in error.description
    assert "Acme Web" in error.description


def test_unknown_identifier_says_so() -> None:
    """RFC 6749 section 5.2: invalid_client, naming the client_id that was not found."""
    error = client_auth.unknown_client("nobody", None, used_basic=False)
    assert error.used_basic is False
    assert "'nobody'" in error.description
    assert "numeric" not in error.description
