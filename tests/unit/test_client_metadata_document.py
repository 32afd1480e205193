"""The rules of client ID metadata documents (protocol/client_metadata_document.py):
draft-ietf-oauth-client-id-metadata-document-00 sections 3 (the URL) and 4.1 (the document)."""

from __future__ import annotations

import pytest

from tessera.protocol import client_metadata_document as rules
from tessera.protocol.client_metadata_document import DocumentProblem
from tests.document_server import document

URL = "https://app.example.com/oauth/client-metadata.json"


# --- section 3: the client identifier URL --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        URL,
        "https://app.example.com:8443/client",  # "MAY contain a port"
        "https://app.example.com/client?v=1",  # a query SHOULD NOT be there, but may
        "https://app.example.com/",  # a path of / is a path
    ],
)
def test_section_3_accepts_https_urls_with_a_path(url: str) -> None:
    assert rules.url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://app.example.com/client", "https scheme"),
        ("ftp://app.example.com/client", "https scheme"),
        ("https://app.example.com", "must contain a path"),
        ("https://app.example.com/a/../client", ". or .. path segments"),
        ("https://app.example.com/./client", ". or .. path segments"),
        ("https://app.example.com/client#frag", "fragment"),
        ("https://user:pass@app.example.com/client", "username or password"),
        ("https://user@app.example.com/client", "username or password"),
        ("https:///client", "no host"),
        ("https://app.example.com:99999/client", "cannot be parsed"),
        ("https://app.example.com/cli ent", "spaces or control characters"),
        ("https://app.example.com/" + "a" * 240, "at most 255"),
    ],
)
def test_section_3_refuses_urls_that_break_a_rule(url: str, words: str) -> None:
    problem = rules.url_problem(url)
    assert problem is not None and words in problem


def test_http_loopback_only_when_development_allows_it() -> None:
    assert rules.url_problem("http://127.0.0.1:8080/client.json") is not None
    assert rules.url_problem("http://127.0.0.1:8080/client.json", allow_http_loopback=True) is None
    assert rules.url_problem("http://[::1]:8080/client.json", allow_http_loopback=True) is None
    assert rules.url_problem("http://localhost/client.json", allow_http_loopback=True) is None
    # Not loopback: still https only, whatever the setting.
    assert rules.url_problem("http://app.example.com/client", allow_http_loopback=True) is not None


def test_urls_are_told_apart_from_identifiers_an_admin_could_make() -> None:
    assert rules.is_url(URL)
    assert rules.is_url("HTTPS://APP.EXAMPLE.COM/x")
    assert rules.is_url("http://127.0.0.1/x")
    assert not rules.is_url("acme_web")
    assert not rules.is_url("https-client")


# --- section 4.1: the document ---------------------------------------------------------------


def test_section_4_1_a_valid_document_describes_a_public_client() -> None:
    metadata = rules.parse(URL, document(URL, logo_uri="https://app.example.com/logo.png", scope="read"))
    assert metadata.client_id == URL
    assert metadata.name == "Example MCP Client"
    assert metadata.redirect_uris == ("http://127.0.0.1:3000/callback", "http://localhost:3000/callback")
    assert metadata.grant_types == ("authorization_code", "refresh_token")
    assert metadata.logo_uri == "https://app.example.com/logo.png"
    assert metadata.client_uri == "https://app.example.com"
    assert metadata.scopes == ("read",)


def test_section_4_1_client_id_must_equal_the_url_exactly() -> None:
    for other in (URL + "/", URL.upper(), "https://app.example.com:443/oauth/client-metadata.json", 42):
        with pytest.raises(DocumentProblem, match="is not its own URL"):
            rules.parse(URL, document(URL, client_id=other))
    with pytest.raises(DocumentProblem, match="has no client_id"):
        rules.parse(URL, {k: v for k, v in document(URL).items() if k != "client_id"})


def test_the_document_must_be_a_json_object() -> None:
    for value in ([document(URL)], "text", 3, None):
        with pytest.raises(DocumentProblem, match="not a JSON object"):
            rules.parse(URL, value)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"client_name": None}, "has no client_name"),
        ({"client_name": "  "}, "client_name must not be empty"),
        ({"client_name": 7}, "client_name must be a string"),
        ({"client_name": "x" * 256}, "at most 255"),
        ({"client_name": "bad\x00name"}, "control characters"),
        ({"client_name": "Acme\u202eevil"}, "U+202E"),
        ({"redirect_uris": None}, "has no redirect_uris"),
        ({"redirect_uris": []}, "has no redirect_uris"),
        ({"redirect_uris": "https://a.example/cb"}, "array of strings"),
        ({"redirect_uris": ["https://a.example/cb#x"]}, "fragment"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "uses http; use https"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "scheme"),
        ({"logo_uri": "http://app.example.com/logo.png"}, "logo_uri must be an absolute https URL"),
        ({"client_uri": "javascript:alert(1)"}, "client_uri must be an absolute https URL"),
        ({"grant_types": ["client_credentials"]}, "grant_types may hold only"),
        ({"grant_types": ["authorization_code", "implicit"]}, "grant_types may hold only"),
        ({"grant_types": ["refresh_token"]}, "must include authorization_code"),
        ({"response_types": ["token"]}, "response_types"),
        ({"scope": "read nonsense"}, "unknown scope"),
        ({"scope": ["read"]}, "scope must be a string"),
    ],
)
def test_section_4_1_fields_that_will_not_do_are_named(fields: dict[str, object], words: str) -> None:
    doc = document(URL)
    for name, value in fields.items():
        if value is None:
            doc.pop(name, None)
        else:
            doc[name] = value
    with pytest.raises(DocumentProblem) as caught:
        rules.parse(URL, doc)
    assert words in caught.value.message


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "client_secret_jwt"])
def test_section_4_1_shared_secret_methods_are_refused(method: str) -> None:
    with pytest.raises(DocumentProblem, match="shared secret"):
        rules.parse(URL, document(URL, token_endpoint_auth_method=method))


def test_section_4_1_client_secret_properties_must_not_be_used() -> None:
    for name in ("client_secret", "client_secret_expires_at"):
        with pytest.raises(DocumentProblem, match=name):
            rules.parse(URL, document(URL, **{name: "x"}))


def test_private_key_jwt_is_refused_as_not_supported() -> None:
    with pytest.raises(DocumentProblem, match="not supported for metadata documents"):
        rules.parse(URL, document(URL, token_endpoint_auth_method="private_key_jwt", jwks_uri=URL))


def test_rfc_7591_defaults_a_document_without_grant_types_or_auth_method() -> None:
    doc = document(URL)
    del doc["grant_types"], doc["token_endpoint_auth_method"], doc["response_types"]
    metadata = rules.parse(URL, doc)
    # RFC 7591 section 2: grant_types default to authorization_code; the method is "none",
    # the only one a document can establish here.
    assert metadata.grant_types == ("authorization_code",)


def test_unknown_properties_are_ignored() -> None:
    assert rules.parse(URL, document(URL, tos_uri="https://app.example.com/tos", software_id="x")).name


def test_properties_set_to_null_count_as_absent() -> None:
    """What a serialiser that writes every field produces (RFC 7591 metadata with nulls)."""
    doc = document(
        URL,
        logo_uri=None,
        client_uri=None,
        scope=None,
        grant_types=None,
        response_types=None,
        token_endpoint_auth_method=None,
        client_secret=None,
        client_secret_expires_at=None,
        jwks=None,
    )
    metadata = rules.parse(URL, doc)
    assert (metadata.logo_uri, metadata.client_uri, metadata.scopes) == ("", "", ())
    assert metadata.grant_types == ("authorization_code",)
