"""tessera/protocol/authorization.py and authorization_trust.py (steps 1-2): RFC 6749
sections 3.1, 3.1.2.3, 4.1.1, 4.1.2, 4.1.2.1, 4.2.1; RFC 7636 section 4.3; RFC 9207; OIDC
Core sections 3.1.2.1 and 3.1.2.6; RFC 8252 section 7.3."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tessera.model import Account, Client
from tessera.protocol import authorization, authorization_response, authorization_trust, response_modes
from tessera.protocol.authorization import (
    CONSENT,
    ISSUE,
    LOGIN,
    SELECT_ACCOUNT,
    AuthorizationRequest,
    SignedIn,
)
from tessera.protocol.authorization_trust import PageError, Reply
from tessera.protocol.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from tests.unit.builders import ISSUER, USER_ID, WEB_REDIRECT, make_client, make_public_client, vector

NO_REPEATS: frozenset[str] = frozenset()
RFC7636 = vector("rfc7636_appendix_b")
RFC9207 = vector("rfc9207_examples")
SEVERAL = ("https://a.example/cb", "https://b.example/cb")

# Literal times for next_step(): signed in at 1000, now 1500 (500 seconds later).
AUTH_TIME = 1_000.0
NOW = 1_500.0
SIGNED_IN = SignedIn(user_id=USER_ID, auth_time=AUTH_TIME)


def _params(**extra: str) -> dict[str, str]:
    params = {"client_id": "acme_web", "response_type": "code", "scope": "read", "state": "xyz"}
    params.update(extra)
    return {k: v for k, v in params.items() if v != "<omit>"}


def _parse(client: Client | None = None, repeated: frozenset[str] = NO_REPEATS, **extra: str) -> AuthorizationRequest:
    client = client or make_client()
    params = _params(**extra)
    reply = authorization_trust.reply_to(params, NO_REPEATS, client)
    return authorization.parse(params, repeated, client, reply)


# --- Step 1: client_id (never redirected) ----------------------------------------------------


def test_client_id_is_read() -> None:
    """RFC 6749 section 4.1.1: client_id is REQUIRED."""
    assert authorization_trust.client_id_of({"client_id": "acme_web"}, NO_REPEATS) == "acme_web"


@pytest.mark.parametrize("params", [{}, {"client_id": ""}, {"response_type": "code"}])
def test_missing_client_id_is_a_page_never_a_redirect(params: dict[str, str]) -> None:
    """RFC 6749 section 4.1.2.1: if the client identifier is missing the server MUST NOT automatically
    redirect; it informs the resource owner (a page)."""
    with pytest.raises(PageError, match="no client_id") as caught:
        authorization_trust.client_id_of(params, NO_REPEATS)
    assert not isinstance(caught.value, OAuthError)


def test_repeated_client_id_is_a_page() -> None:
    """RFC 6749 section 3.1: parameters MUST NOT be included more than once; an untrusted client_id gets a page."""
    with pytest.raises(PageError, match="more than once"):
        authorization_trust.client_id_of({"client_id": "acme_web"}, frozenset({"client_id"}))


def test_unknown_client_is_a_page() -> None:
    """RFC 6749 section 4.1.2.1: an invalid client identifier -> the user is told, not redirected."""
    error = authorization_trust.unknown_client("nobody", None)
    assert isinstance(error, PageError)
    assert not isinstance(error, OAuthError)
    assert error.title == "Unknown client"
    assert "'nobody'" in error.message


def test_numeric_client_id_page_names_the_identifier() -> None:
    """INTERFACE.md "Lessons from the field": a numeric client_id names the identifier to send instead."""
    error = authorization_trust.unknown_client("42", make_client())
    assert "numeric id" in error.message
    assert "'acme_web'" in error.message


# --- Step 2: redirect_uri (never redirected when wrong) ----------------------------------------


def test_one_registered_uri_may_be_omitted() -> None:
    """RFC 6749 section 3.1.2.3: with one registered URI, redirect_uri may be omitted."""
    reply = authorization_trust.reply_to(_params(), NO_REPEATS, make_client())
    assert reply == Reply(redirect_uri=WEB_REDIRECT, response_mode="query", state="xyz")


def test_registered_uri_is_used_when_sent() -> None:
    """RFC 6749 section 3.1.2.3: the requested URI is one of the registered ones."""
    client = make_client(redirect_uris=SEVERAL)
    reply = authorization_trust.reply_to(_params(redirect_uri="https://b.example/cb"), NO_REPEATS, client)
    assert reply.redirect_uri == "https://b.example/cb"


def test_unregistered_uri_is_a_page_listing_the_registered_ones() -> None:
    """RFC 6749 section 4.1.2.1 / INTERFACE.md: a mismatching redirect URI -> an error page listing the
    registered URIs, and no redirect, ever."""
    client = make_client(redirect_uris=SEVERAL)
    with pytest.raises(PageError, match="is not registered") as caught:
        authorization_trust.reply_to(_params(redirect_uri="https://evil.example/cb"), NO_REPEATS, client)
    assert caught.value.registered == SEVERAL
    assert "https://evil.example/cb" in caught.value.message
    assert not isinstance(caught.value, OAuthError)


def test_omitted_uri_with_several_registered_is_a_page() -> None:
    """RFC 6749 section 3.1.2.3: with several registered URIs the client MUST include redirect_uri."""
    client = make_client(redirect_uris=SEVERAL)
    with pytest.raises(PageError, match="several") as caught:
        authorization_trust.reply_to(_params(), NO_REPEATS, client)
    assert caught.value.registered == SEVERAL


def test_client_without_registered_uris_is_a_page() -> None:
    """RFC 6749 section 3.1.2.2: a client must register its redirection endpoint."""
    with pytest.raises(PageError, match="no redirect URI registered"):
        authorization_trust.reply_to(_params(), NO_REPEATS, make_client(redirect_uris=()))


def test_repeated_redirect_uri_is_a_page() -> None:
    """RFC 6749 sections 3.1 and 4.1.2.1: a repeated redirect_uri is not validated, so it is not redirected to."""
    with pytest.raises(PageError, match="more than once"):
        authorization_trust.reply_to(_params(redirect_uri=WEB_REDIRECT), frozenset({"redirect_uri"}), make_client())


def test_loopback_port_is_honoured_in_the_reply() -> None:
    """RFC 8252 section 7.3: the response goes to the loopback port in the request."""
    client = make_client(redirect_uris=("http://127.0.0.1/cb",))
    reply = authorization_trust.reply_to(_params(redirect_uri="http://127.0.0.1:51004/cb"), NO_REPEATS, client)
    assert reply.redirect_uri == "http://127.0.0.1:51004/cb"


@pytest.mark.parametrize(
    ("extra", "mode"),
    [
        ({}, "query"),
        ({"response_type": "token"}, "fragment"),
        ({"response_mode": "form_post"}, "form_post"),
        ({"response_type": "token", "response_mode": "form_post"}, "form_post"),
        ({"response_mode": "fragment"}, "fragment"),
        ({"response_mode": "banana"}, "query"),
        ({"response_type": "token", "response_mode": "banana"}, "fragment"),
    ],
)
def test_reply_mode(extra: dict[str, str], mode: str) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices section 5: code defaults to query, token to
    fragment; an unknown response_mode falls back to the default so its error can be delivered."""
    assert authorization_trust.reply_to(_params(**extra), NO_REPEATS, make_client()).response_mode == mode


def test_reply_without_state_has_none() -> None:
    """RFC 6749 section 4.1.2: state is echoed only when the client sent it."""
    assert authorization_trust.reply_to(_params(state="<omit>"), NO_REPEATS, make_client()).state is None


# --- Steps 3-4: parse() (errors are redirected) ------------------------------------------------


def test_parse_a_plain_code_request() -> None:
    """RFC 6749 section 4.1.1: response_type=code, client_id, optional redirect_uri, scope, state."""
    request = _parse(nonce="n-0S6_WzA2Mj", login_hint="ann@example.com")
    assert request.response_type == "code"
    assert request.scopes == ("read",)
    assert request.code_challenge == ""
    assert request.nonce == "n-0S6_WzA2Mj"
    assert request.login_hint == "ann@example.com"
    assert request.prompt == frozenset()
    assert request.max_age is None
    assert request.redirect_uri_sent is False
    assert request.reply.state == "xyz"


def test_redirect_uri_sent_is_remembered() -> None:
    """RFC 6749 section 4.1.3: a redirect_uri sent at authorization must be sent again at the token endpoint."""
    assert _parse(redirect_uri=WEB_REDIRECT).redirect_uri_sent is True


def test_missing_response_type_is_invalid_request() -> None:
    """RFC 6749 section 4.1.2.1: a missing required parameter is invalid_request."""
    with pytest.raises(InvalidRequest, match="response_type is required"):
        _parse(response_type="<omit>")


@pytest.mark.parametrize("response_type", ["id_token", "code token", "code id_token", "CODE", "device_code"])
def test_unknown_response_type_is_unsupported_response_type(response_type: str) -> None:
    """RFC 6749 section 4.1.2.1: unsupported_response_type."""
    with pytest.raises(UnsupportedResponseType):
        _parse(response_type=response_type)


def test_token_without_implicit_grant_is_unauthorized_client() -> None:
    """RFC 6749 section 4.2.2.1: unauthorized_client when the client may not use this response type."""
    with pytest.raises(UnauthorizedClient, match="implicit"):
        _parse(response_type="token")


def test_code_without_authorization_code_grant_is_unauthorized_client() -> None:
    """RFC 6749 section 4.1.2.1: unauthorized_client when the client may not use the code flow."""
    machine = make_client(grant_types=frozenset({"client_credentials"}))
    with pytest.raises(UnauthorizedClient, match="authorization_code"):
        _parse(client=machine)


def test_implicit_for_a_client_with_the_grant() -> None:
    """RFC 6749 section 4.2.1: response_type=token, answered in the fragment."""
    legacy = make_client(grant_types=frozenset({"authorization_code", "implicit"}))
    request = _parse(client=legacy, response_type="token")
    assert (request.response_type, request.reply.response_mode) == ("token", "fragment")


def test_dpop_jkt_is_kept_for_the_code_and_refused_for_the_implicit_grant() -> None:
    """RFC 9449 section 10: dpop_jkt binds an authorization code; an implicit request has no
    code to bind, so the parameter is refused there rather than ignored."""
    thumbprint = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # RFC 7638 section 3.1's example
    assert _parse(dpop_jkt=thumbprint).dpop_jkt == thumbprint
    assert _parse().dpop_jkt == ""
    legacy = make_client(grant_types=frozenset({"authorization_code", "implicit"}))
    with pytest.raises(InvalidRequest, match="response_type=code"):
        _parse(client=legacy, response_type="token", dpop_jkt=thumbprint)
    for malformed in ("short", thumbprint + "=", thumbprint[:-1] + "+"):
        with pytest.raises(InvalidRequest, match="not a JWK SHA-256 thumbprint"):
            _parse(dpop_jkt=malformed)


@pytest.mark.parametrize("name", ["scope", "state", "response_type", "code_challenge"])
def test_repeated_parameter_is_invalid_request(name: str) -> None:
    """RFC 6749 section 3.1: "Request and response parameters MUST NOT be included more than once"."""
    with pytest.raises(InvalidRequest, match="more than once") as caught:
        _parse(repeated=frozenset({name}))
    assert name in caught.value.description


def test_response_mode_query_with_token_is_refused() -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices section 2.1: an access token must not travel in
    the query (it would leak into logs and Referer)."""
    legacy = make_client(grant_types=frozenset({"authorization_code", "implicit"}))
    with pytest.raises(InvalidRequest, match="response_mode=query"):
        _parse(client=legacy, response_type="token", response_mode="query")


def test_unknown_response_mode_is_invalid_request() -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices section 2: response_mode is query, fragment or form_post."""
    with pytest.raises(InvalidRequest, match="response_mode"):
        _parse(response_mode="banana")


def test_unknown_scope_is_invalid_scope_redirected() -> None:
    """RFC 6749 section 4.1.2.1: invalid_scope goes back to the client (an OAuthError, not a page)."""
    with pytest.raises(InvalidScope):
        _parse(scope="read nonsense")


def test_omitted_scope_takes_the_allow_list() -> None:
    """RFC 6749 section 3.3: an omitted scope takes the client's pre-defined default (its allowed scopes)."""
    assert _parse(client=make_client(allowed_scopes=("read", "tickets:write")), scope="<omit>").scopes == (
        "read",
        "tickets:write",
    )


def test_public_client_must_send_pkce() -> None:
    """RFC 7636 section 4.4.1 / INTERFACE.md: public clients must send PKCE S256."""
    with pytest.raises(InvalidRequest, match="PKCE is required"):
        _parse(client=make_public_client(), client_id="acme_spa")


def test_public_client_with_s256_records_the_challenge() -> None:
    """RFC 7636 section 4.3 with the Appendix B challenge."""
    request = _parse(
        client=make_public_client(),
        client_id="acme_spa",
        code_challenge=RFC7636["code_challenge"],
        code_challenge_method="S256",
    )
    assert request.code_challenge == RFC7636["code_challenge"]


def test_plain_is_refused_for_a_confidential_client_too() -> None:
    """RFC 9700 section 2.1.1 / INTERFACE.md: plain is refused for every client."""
    with pytest.raises(InvalidRequest, match="S256"):
        _parse(code_challenge=RFC7636["code_verifier"], code_challenge_method="plain")


@pytest.mark.parametrize("prompt", ["none login", "none consent", "login none", "none select_account"])
def test_prompt_none_combined_is_invalid_request(prompt: str) -> None:
    """OIDC Core 3.1.2.1: "If this parameter contains none with any other value, an error is returned"."""
    with pytest.raises(InvalidRequest, match="prompt=none cannot be combined"):
        _parse(prompt=prompt)


def test_unknown_prompt_is_invalid_request() -> None:
    """OIDC Core 3.1.2.1: prompt values are none, login, consent, select_account."""
    with pytest.raises(InvalidRequest, match="prompt"):
        _parse(prompt="login create")


def test_prompt_values_are_a_set() -> None:
    """OIDC Core 3.1.2.1: prompt is a space-delimited list."""
    assert _parse(prompt="login consent").prompt == frozenset({"login", "consent"})


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "1e3", " 60", "\u0661\u0662"])
def test_non_numeric_max_age_is_invalid_request(max_age: str) -> None:
    """OIDC Core 3.1.2.1: max_age is a number of seconds."""
    with pytest.raises(InvalidRequest, match="max_age"):
        _parse(max_age=max_age)


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("3600", 3_600)])
def test_max_age_is_read(raw: str, value: int) -> None:
    """OIDC Core 3.1.2.1: max_age in seconds, 0 allowed."""
    assert _parse(max_age=raw).max_age == value


# --- next_step() ------------------------------------------------------------------------------


def test_not_signed_in_goes_to_login() -> None:
    """OIDC Core 3.1.2.3: the end-user is authenticated first."""
    assert authorization.next_step(_parse(), None, None, NOW) == LOGIN


def test_not_signed_in_with_prompt_none_is_login_required() -> None:
    """OIDC Core 3.1.2.6: prompt=none and nobody signed in -> login_required."""
    with pytest.raises(LoginRequired):
        authorization.next_step(_parse(prompt="none"), None, None, NOW)


def test_id_token_hint_naming_another_user_asks_for_a_sign_in() -> None:
    """OIDC Core 3.1.2.1, id_token_hint: a positive answer only for the user the hint names;
    otherwise login_required under prompt=none, the login page without it."""
    other = authorization.with_hint(_parse(), {"sub": str(USER_ID + 1)})
    assert authorization.next_step(other, SIGNED_IN, ("read",), NOW) == LOGIN
    with pytest.raises(LoginRequired, match="id_token_hint"):
        authorization.next_step(authorization.with_hint(_parse(prompt="none"), {"sub": "99"}), SIGNED_IN, None, NOW)
    same = authorization.with_hint(_parse(), {"sub": str(USER_ID)})
    assert authorization.next_step(same, SIGNED_IN, ("read",), NOW) == ISSUE
    for unverified in (None, {"aud": "x"}):
        with pytest.raises(InvalidRequest, match="id_token_hint"):
            authorization.with_hint(_parse(), unverified)


def test_signed_in_without_grant_goes_to_consent() -> None:
    """OIDC Core 3.1.2.4: consent is obtained when there is none yet."""
    assert authorization.next_step(_parse(), SIGNED_IN, None, NOW) == CONSENT


def test_empty_grant_goes_to_consent() -> None:
    """INTERFACE.md: a grant lets consent be skipped only for the same or fewer scopes."""
    assert authorization.next_step(_parse(), SIGNED_IN, (), NOW) == CONSENT


@pytest.mark.parametrize(
    ("granted", "scope"),
    [
        (("read",), "read"),
        (("read", "write"), "read"),
        (("read",), "tickets:read users:read"),
        (("tickets",), "tickets:write"),
    ],
)
def test_remembered_grant_covering_the_scopes_skips_consent(granted: tuple[str, ...], scope: str) -> None:
    """INTERFACE.md "Authorization endpoint": already granted the same or fewer scopes -> no consent page."""
    assert authorization.next_step(_parse(scope=scope), SIGNED_IN, granted, NOW) == ISSUE


@pytest.mark.parametrize(
    ("granted", "scope"), [(("tickets:read",), "read"), (("read",), "read write"), (("read",), "tickets")]
)
def test_remembered_grant_narrower_than_the_request_asks_again(granted: tuple[str, ...], scope: str) -> None:
    """INTERFACE.md: more scopes than granted -> the consent page."""
    assert authorization.next_step(_parse(scope=scope), SIGNED_IN, granted, NOW) == CONSENT


def test_prompt_consent_asks_even_with_a_grant() -> None:
    """OIDC Core 3.1.2.1: prompt=consent -> SHOULD prompt for consent."""
    assert authorization.next_step(_parse(prompt="consent"), SIGNED_IN, ("read",), NOW) == CONSENT


def test_prompt_none_with_grant_issues_without_a_page() -> None:
    """INTERFACE.md / OIDC Core 3.1.2.1: prompt=none, signed in, granted -> the code, without any page."""
    assert authorization.next_step(_parse(prompt="none"), SIGNED_IN, ("read",), NOW) == ISSUE


@pytest.mark.parametrize("granted", [None, (), ("tickets:read",)])
def test_prompt_none_without_covering_grant_is_consent_required(granted: tuple[str, ...] | None) -> None:
    """OIDC Core 3.1.2.6: prompt=none, signed in, not yet granted -> consent_required."""
    with pytest.raises(ConsentRequired):
        authorization.next_step(_parse(prompt="none"), SIGNED_IN, granted, NOW)


def test_prompt_login_shows_login_even_when_signed_in_and_granted() -> None:
    """OIDC Core 3.1.2.1: prompt=login -> the server SHOULD prompt for reauthentication."""
    assert authorization.next_step(_parse(prompt="login"), SIGNED_IN, ("read",), NOW) == LOGIN


def test_prompt_select_account_when_signed_in() -> None:
    """OIDC Core 3.1.2.1: prompt=select_account -> let the user choose an account."""
    assert authorization.next_step(_parse(prompt="select_account"), SIGNED_IN, ("read",), NOW) == SELECT_ACCOUNT


def test_prompt_select_account_when_signed_out_is_login() -> None:
    """OIDC Core 3.1.2.1: with nobody signed in there is no account to select; sign in first."""
    assert authorization.next_step(_parse(prompt="select_account"), None, None, NOW) == LOGIN


def test_max_age_not_exceeded_at_the_boundary() -> None:
    """OIDC Core 3.1.2.1: re-authenticate when the elapsed time is greater than max_age (500 s == 500)."""
    assert authorization.next_step(_parse(max_age="500"), SIGNED_IN, ("read",), NOW) == ISSUE


def test_max_age_exceeded_goes_to_login() -> None:
    """OIDC Core 3.1.2.1: 500 s since sign-in > max_age 499 -> actively re-authenticate."""
    assert authorization.next_step(_parse(max_age="499"), SIGNED_IN, ("read",), NOW) == LOGIN


def test_max_age_exceeded_with_prompt_none_is_login_required() -> None:
    """OIDC Core 3.1.2.6: re-authentication needed but prompt=none -> login_required."""
    with pytest.raises(LoginRequired):
        authorization.next_step(_parse(max_age="499", prompt="none"), SIGNED_IN, ("read",), NOW)


def test_max_age_zero() -> None:
    """OIDC Core 3.1.2.1: max_age=0 demands a sign-in no older than now."""
    request = _parse(max_age="0")
    assert authorization.next_step(request, SignedIn(USER_ID, NOW), ("read",), NOW) == ISSUE
    assert authorization.next_step(request, SignedIn(USER_ID, NOW - 1), ("read",), NOW) == LOGIN


# --- params_after_login() ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "after"),
    [
        ("login", None),
        ("select_account", None),
        ("login select_account", None),
        ("login consent", "consent"),
        ("consent", "consent"),
        ("none", "none"),
    ],
)
def test_after_login_drops_the_demand_to_sign_in(prompt: str, after: str | None) -> None:
    """OIDC Core 3.1.2.1: prompt=login/select_account are satisfied by the sign-in just done; keeping them
    would send the user back to the login page forever."""
    params = _params(prompt=prompt)
    again = authorization.params_after_login(params)
    assert again.get("prompt") == after
    assert params["prompt"] == prompt  # the input is not changed


def test_after_login_drops_max_age_and_keeps_the_rest() -> None:
    """OIDC Core 3.1.2.1: max_age is satisfied by the sign-in just done (auth_time records when)."""
    params = _params(max_age="0", prompt="login", redirect_uri=WEB_REDIRECT, nonce="n1")
    assert authorization.params_after_login(params) == {
        "client_id": "acme_web",
        "response_type": "code",
        "scope": "read",
        "state": "xyz",
        "redirect_uri": WEB_REDIRECT,
        "nonce": "n1",
    }


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"prompt": "select_account"}, {"max_age": "0"}])
def test_the_login_page_cannot_loop(extra: dict[str, str]) -> None:
    """OIDC Core 3.1.2.1: after signing in (auth_time = a moment ago), the request that comes back proceeds."""
    client = make_client()
    params = _params(**extra)
    reply = authorization_trust.reply_to(params, NO_REPEATS, client)
    before = authorization.parse(params, NO_REPEATS, client, reply)
    assert authorization.next_step(before, SignedIn(USER_ID, NOW - 5), ("read",), NOW) in (LOGIN, SELECT_ACCOUNT)
    again = authorization.params_after_login(params)
    after = authorization.parse(again, NO_REPEATS, client, authorization_trust.reply_to(again, NO_REPEATS, client))
    assert authorization.next_step(after, SignedIn(USER_ID, NOW - 5), ("read",), NOW) == ISSUE


# --- error_params() / code_params() -----------------------------------------------------------


def test_code_params_rfc9207_example() -> None:
    """RFC 9207 section 2.1 (with RFC 6749 section 4.1.2): code, state and iss, in that exact Location."""
    example = RFC9207["authorization_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    params = authorization_response.code_params(example["code"], reply, example["issuer"])
    assert params == {"code": example["code"], "state": example["state"], "iss": example["issuer"]}
    assert response_modes.redirect_location(reply, params) == example["location"]


def test_error_params_rfc9207_example() -> None:
    """RFC 9207 section 2.2 / RFC 6749 section 4.1.2.1: error, error_description, state and iss."""
    example = RFC9207["error_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    error = AccessDenied("the user denied the request")
    params = authorization_response.error_params(error, reply, example["issuer"])
    assert params == {
        "error": "access_denied",
        "error_description": "the user denied the request",
        "state": example["state"],
        "iss": example["issuer"],
    }
    location = urlsplit(response_modes.redirect_location(reply, params))
    assert dict(parse_qsl(location.query)) == params


def test_state_only_when_sent() -> None:
    """RFC 6749 sections 4.1.2 and 4.1.2.1: state is REQUIRED in the response if it was in the request, and
    absent otherwise; RFC 9207: iss is always present, also in error responses."""
    reply = Reply(redirect_uri=WEB_REDIRECT, response_mode="query", state=None)
    assert authorization_response.code_params("tsc_abc", reply, ISSUER) == {"code": "tsc_abc", "iss": ISSUER}
    error_params = authorization_response.error_params(InvalidRequest("x"), reply, ISSUER)
    assert error_params == {"error": "invalid_request", "error_description": "x", "iss": ISSUER}


def test_error_params_carry_the_folded_description() -> None:
    """RFC 6749 section 4.1.2.1: error_description is limited to the section 5.2 character set."""
    reply = Reply(redirect_uri=WEB_REDIRECT, response_mode="query", state="s")
    params = authorization_response.error_params(InvalidRequest('bad "value" ü'), reply, ISSUER)
    assert params["error_description"] == "bad 'value' ?"


# --- with_state_and_iss(): every authorization response -------------------------------------


def test_with_state_and_iss_rfc9207_authorization_response() -> None:
    """RFC 9207 section 2.1: the code response's exact Location, built from code alone."""
    example = RFC9207["authorization_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    params = authorization_response.with_state_and_iss({"code": example["code"]}, reply, example["issuer"])
    assert list(params) == ["code", "state", "iss"]
    assert response_modes.redirect_location(reply, params) == example["location"]


def test_with_state_and_iss_rfc9207_error_response() -> None:
    """RFC 9207 section 2.2: an error response carries iss too, after state."""
    example = RFC9207["error_response"]
    reply = Reply(redirect_uri=example["redirect_uri"], response_mode="query", state=example["state"])
    params = authorization_response.with_state_and_iss({"error": example["error"]}, reply, example["issuer"])
    assert params == {"error": "access_denied", "state": example["state"], "iss": "https://honest.as.example"}


def test_with_state_and_iss_for_an_implicit_response_without_state() -> None:
    """RFC 6749 section 4.2.2: state only "if the "state" parameter was present"; RFC 9207:
    iss always. The token parameters stay as given, and the caller's dict is not changed."""
    reply = Reply(redirect_uri=WEB_REDIRECT, response_mode="fragment", state=None)
    token = {"access_token": "tsa_abc", "token_type": "bearer", "expires_in": "1800", "scope": "read"}
    params = authorization_response.with_state_and_iss(token, reply, ISSUER)
    assert params == {**token, "iss": ISSUER}
    assert "iss" not in token


# --- trusted(): steps 1 and 2 with the client store ----------------------------------------

ACCOUNT_7 = Account(id=7, subdomain="acme", name="Acme", created_at=0.0)


class _Clients:
    """The ClientStore port, in memory: only acme_web (numeric id 42) exists."""

    def __init__(self) -> None:
        self.client = make_client()

    async def find(self, account_id: int, identifier: str) -> Client | None:
        return self.client if identifier == self.client.identifier else None

    async def find_by_numeric_id(self, account_id: int, numeric_id: int) -> Client | None:
        return self.client if numeric_id == self.client.id else None

    async def redirect_uri_registered(self, account_id: int, uri: str) -> bool:
        return uri in self.client.redirect_uris


@pytest.mark.anyio
async def test_trusted_finds_the_client_and_its_redirect_uri() -> None:
    client, reply = await authorization_trust.trusted(
        _Clients(), ACCOUNT_7, _params(redirect_uri=WEB_REDIRECT), NO_REPEATS
    )
    assert client.identifier == "acme_web"
    assert reply == Reply(redirect_uri=WEB_REDIRECT, response_mode="query", state="xyz")


@pytest.mark.anyio
async def test_trusted_names_the_identifier_when_the_numeric_id_was_sent() -> None:
    """INTERFACE.md "Lessons from the field": as at the token endpoint, the numeric id is
    answered with the identifier to send, here on a page (RFC 6749 section 4.1.2.1)."""
    with pytest.raises(PageError) as caught:
        await authorization_trust.trusted(_Clients(), ACCOUNT_7, _params(client_id="42"), NO_REPEATS)
    assert caught.value.title == "Unknown client"
    assert "'acme_web'" in caught.value.message


@pytest.mark.anyio
async def test_trusted_refuses_an_unknown_client_with_a_page() -> None:
    with pytest.raises(PageError) as caught:
        await authorization_trust.trusted(_Clients(), ACCOUNT_7, _params(client_id="nobody"), NO_REPEATS)
    assert "'nobody'" in caught.value.message
