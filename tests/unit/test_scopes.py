"""tessera/protocol/scopes.py: RFC 6749 section 3.3 with Zendesk's vocabulary (INTERFACE.md "Scopes")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.protocol import scopes
from tessera.protocol.errors import InvalidScope
from tests.unit.builders import PROPERTY

# INTERFACE.md "Scopes", written out here rather than read from the module under test.
READ_WRITE = [
    "tickets",
    "users",
    "organizations",
    "hc",
    "apps",
    "triggers",
    "automations",
    "targets",
    "webhooks",
    "macros",
    "requests",
    "satisfaction_ratings",
    "dynamic_content",
    "zis",
    "clients",  # section 6: clients:read / clients:write guard /api/v2/oauth/clients
]
STANDALONE = ["read", "write", "impersonate", "openid", "profile", "email", "address", "phone", "offline_access"]
VOCABULARY = (
    set(STANDALONE)
    | set(READ_WRITE)
    | {f"{r}:read" for r in READ_WRITE}
    | {f"{r}:write" for r in READ_WRITE}
    | {"auditlogs:read", "any_channel:write", "web_widget:write"}
)


def test_known_scopes_are_exactly_the_documented_vocabulary() -> None:
    """INTERFACE.md "Scopes" and section 6 (clients): read, write, impersonate, RESOURCE[:read|:write],
    auditlogs:read, any_channel:write, web_widget:write, openid, profile, email, address, phone,
    offline_access; nothing else."""
    assert len(VOCABULARY) == 57
    assert set(scopes.KNOWN_SCOPES) == VOCABULARY


@pytest.mark.parametrize("resource", READ_WRITE)
def test_read_covers_every_resource_read_and_no_write(resource: str) -> None:
    """INTERFACE.md "Scopes": `read` covers every RESOURCE:read (and no RESOURCE:write)."""
    assert scopes.covers(("read",), (f"{resource}:read",))
    assert scopes.satisfies(("read",), f"{resource}:read")
    assert not scopes.covers(("read",), (f"{resource}:write",))
    assert not scopes.satisfies(("read",), f"{resource}:write")


@pytest.mark.parametrize("resource", READ_WRITE)
def test_write_covers_every_resource_write_and_no_read(resource: str) -> None:
    """INTERFACE.md "Scopes": `write` covers every RESOURCE:write (and no RESOURCE:read)."""
    assert scopes.covers(("write",), (f"{resource}:write",))
    assert scopes.satisfies(("write",), f"{resource}:write")
    assert not scopes.covers(("write",), (f"{resource}:read",))
    assert not scopes.satisfies(("write",), f"{resource}:read")


@pytest.mark.parametrize("resource", READ_WRITE)
def test_bare_resource_means_read_and_write(resource: str) -> None:
    """INTERFACE.md "Scopes": a bare resource (`tickets`) means RESOURCE:read and RESOURCE:write."""
    assert scopes.covers((resource,), (f"{resource}:read", f"{resource}:write"))
    assert scopes.covers((f"{resource}:read", f"{resource}:write"), (resource,))
    assert not scopes.covers((f"{resource}:read",), (resource,))
    assert scopes.covers(("read", "write"), (resource,))


def test_a_bare_resource_covers_nothing_of_another_resource() -> None:
    """RFC 6749 section 3.3: a resource scope confers that resource only."""
    assert not scopes.covers(("tickets",), ("users:read",))
    assert not scopes.satisfies(("tickets",), "users:read")
    assert not scopes.covers(("tickets",), ("read",))


def test_auditlogs_is_read_only() -> None:
    """INTERFACE.md "Scopes": auditlogs:read (read only); `read` covers it, there is no auditlogs:write."""
    assert scopes.validate(("auditlogs:read",), ()) == ("auditlogs:read",)
    assert scopes.satisfies(("read",), "auditlogs:read")
    assert not scopes.satisfies(("write",), "auditlogs:write")
    with pytest.raises(InvalidScope):
        scopes.validate(("auditlogs:write",), ())


@pytest.mark.parametrize("resource", ["any_channel", "web_widget"])
def test_write_only_resources(resource: str) -> None:
    """INTERFACE.md "Scopes": any_channel:write and web_widget:write (write only); `write` covers them."""
    assert scopes.validate((f"{resource}:write",), ()) == (f"{resource}:write",)
    assert scopes.satisfies(("write",), f"{resource}:write")
    assert not scopes.satisfies(("read",), f"{resource}:read")
    with pytest.raises(InvalidScope):
        scopes.validate((f"{resource}:read",), ())


@pytest.mark.parametrize("scope", ["impersonate", "openid", "profile", "email", "address", "phone", "offline_access"])
def test_standalone_scopes_cover_only_themselves(scope: str) -> None:
    """INTERFACE.md "Scopes": impersonate and the OIDC scopes are neither read nor write."""
    assert scopes.satisfies((scope,), scope)
    assert not scopes.satisfies(("read", "write"), scope)
    assert not scopes.covers((scope,), ("tickets:read",))


@pytest.mark.parametrize("unknown", ["tickets:delete", "admin", "READ", "Tickets", "tickets:", ":read", "users:admin"])
def test_unknown_scope_is_invalid_scope(unknown: str) -> None:
    """RFC 6749 section 5.2 invalid_scope: "The requested scope is invalid, unknown, or malformed"."""
    with pytest.raises(InvalidScope) as caught:
        scopes.validate(("read", unknown), ())
    assert caught.value.error == "invalid_scope"
    assert unknown in caught.value.description


def test_malformed_scope_is_not_echoed() -> None:
    """RFC 6749 section 3.3: scope-token excludes '"' and '\\'; a malformed token is named as such."""
    with pytest.raises(InvalidScope) as caught:
        scopes.validate(('ti"ck\\ets',), ())
    assert "(malformed)" in caught.value.description
    assert "ck" not in caught.value.description


@pytest.mark.parametrize("requested", [("tickets:read",), ("users:read", "hc:read"), ("read",), ("auditlogs:read",)])
def test_allow_list_admits_what_it_covers(requested: tuple[str, ...]) -> None:
    """INTERFACE.md "Scopes": a client's allowed scopes admit every scope they cover."""
    assert scopes.validate(requested, ("read",)) == requested


@pytest.mark.parametrize(
    "requested", [("tickets:write",), ("tickets",), ("write",), ("read", "impersonate"), ("openid",)]
)
def test_allow_list_refuses_what_it_does_not_cover(requested: tuple[str, ...]) -> None:
    """INTERFACE.md "Scopes": a scope outside the client's allowed scopes is invalid_scope."""
    with pytest.raises(InvalidScope, match="not allowed for this client") as caught:
        scopes.validate(requested, ("read",))
    assert "it may request: read" in caught.value.description


def test_allow_list_of_a_bare_resource() -> None:
    """INTERFACE.md "Scopes": allowed `tickets` admits tickets, tickets:read, tickets:write, nothing wider."""
    for requested in [("tickets",), ("tickets:read",), ("tickets:write",), ("tickets:read", "tickets:write")]:
        assert scopes.validate(requested, ("tickets",)) == requested
    for requested in [("read",), ("users:read",), ("write",)]:
        with pytest.raises(InvalidScope):
            scopes.validate(requested, ("tickets",))


def test_no_allow_list_admits_every_known_scope() -> None:
    """model.Client.allowed_scopes: empty means any scope Tessera knows."""
    every = tuple(sorted(VOCABULARY))
    assert scopes.validate(every, ()) == every


def test_omitted_scope_defaults_to_the_allow_list() -> None:
    """RFC 6749 section 3.3: when scope is omitted the server MUST use a pre-defined default (the allow-list)."""
    assert scopes.resolve(None, ("read", "tickets:write")) == ("read", "tickets:write")
    assert scopes.resolve("", ("read",)) == ("read",)
    assert scopes.resolve("   ", ("read",)) == ("read",)


def test_omitted_scope_without_allow_list_fails_the_request() -> None:
    """RFC 6749 section 3.3: with no default, the server MUST fail the request (invalid_scope)."""
    with pytest.raises(InvalidScope, match="scope is required"):
        scopes.resolve(None, ())


def test_resolve_validates_what_was_sent() -> None:
    """RFC 6749 section 3.3: a sent scope is checked against the vocabulary and the allow-list."""
    assert scopes.resolve("read tickets:write", ()) == ("read", "tickets:write")
    with pytest.raises(InvalidScope):
        scopes.resolve("write", ("read",))
    with pytest.raises(InvalidScope):
        scopes.resolve("nonsense", ())


def test_parse_splits_on_spaces_drops_repeats_keeps_order() -> None:
    """RFC 6749 section 3.3: the scope is a list of space-delimited strings; order does not matter, repeats add nothing."""
    assert scopes.parse("write  read write tickets:read") == ("write", "read", "tickets:read")
    assert scopes.parse(None) == ()
    assert scopes.format_scopes(("read", "write")) == "read write"


@pytest.mark.parametrize(
    ("granted", "needed", "expected"),
    [
        (("read",), "users:read", True),
        (("users:read",), "users:read", True),
        (("users",), "users:write", True),
        (("users:write",), "users:read", False),
        ((), "users:read", False),
        (("admin",), "tickets:read", False),
        (("read", "write"), "impersonate", False),
        (("openid",), "openid", True),
    ],
)
def test_satisfies(granted: tuple[str, ...], needed: str, expected: bool) -> None:
    """RFC 6750 section 3.1: a token reaches a resource only if its scopes include the permission needed."""
    assert scopes.satisfies(granted, needed) is expected


@pytest.mark.parametrize(
    ("scope", "line"),
    [
        ("read", "Read everything in your account"),
        ("write", "Create, change and delete everything in your account"),
        ("impersonate", "Act on behalf of other users in your account"),
        ("openid", "Confirm who you are"),
        ("email", "See your email address"),
        ("address", "See your postal address"),
        ("phone", "See your phone number"),
        ("offline_access", "Stay connected when you are not using it"),
        ("tickets", "Read, create, change and delete tickets"),
        ("tickets:read", "Read tickets"),
        ("tickets:write", "Create, change and delete tickets"),
        ("hc:read", "Read Help Center articles"),
        ("satisfaction_ratings:read", "Read satisfaction ratings"),
        ("auditlogs:read", "Read audit logs"),
        ("any_channel:write", "Create, change and delete channel integrations"),
        ("zis", "Read, create, change and delete integration services"),
    ],
)
def test_describe_gives_plain_words(scope: str, line: str) -> None:
    """INTERFACE.md "Lessons from the field": the consent page says what a scope allows in plain words."""
    assert scopes.describe([scope]) == [line]


def test_describe_has_one_line_per_scope_in_order() -> None:
    """The consent page lists every requested scope, in request order."""
    assert scopes.describe(["users:read", "read"]) == ["Read users", "Read everything in your account"]


@pytest.mark.parametrize("scope", sorted(VOCABULARY))
def test_describe_never_shows_scope_syntax(scope: str) -> None:
    """Plain words: no scope token syntax (':' or '_') reaches the user for any known scope."""
    (line,) = scopes.describe([scope])
    assert ":" not in line
    assert "_" not in line
    assert line[0].isupper()


@PROPERTY
@given(
    st.lists(st.sampled_from(sorted(VOCABULARY)), max_size=6), st.lists(st.sampled_from(sorted(VOCABULARY)), max_size=6)
)
def test_covers_is_monotonic(granted: list[str], extra: list[str]) -> None:
    """RFC 6749 section 3.3 (property): a set of scopes covers itself and every subset; adding scopes never
    loses coverage."""
    assert scopes.covers(granted, granted)
    assert scopes.covers(granted + extra, granted)
    assert scopes.covers(granted, granted[: len(granted) // 2])


# --- OIDC Core section 5.4: address and phone ----------------------------------------------


def test_openid_address_phone_is_accepted() -> None:
    """OIDC Core 5.4 defines the address and phone scopes; INTERFACE.md "Scopes" accepts them."""
    assert scopes.resolve("openid address phone", ()) == ("openid", "address", "phone")


@pytest.mark.parametrize("scope", ["address", "phone"])
def test_address_and_phone_are_known_and_standalone(scope: str) -> None:
    """INTERFACE.md "Scopes": address and phone are OIDC scopes, covered by neither read nor write."""
    assert scope in scopes.KNOWN_SCOPES
    assert scopes.validate((scope,), ()) == (scope,)
    assert not scopes.covers(("read", "write", "openid"), (scope,))


@pytest.mark.parametrize("scope", ["address", "phone"])
def test_address_and_phone_stay_inside_the_allow_list(scope: str) -> None:
    """INTERFACE.md "Scopes": a client with allowed scopes may request only what they cover."""
    with pytest.raises(InvalidScope) as caught:
        scopes.validate(("openid", scope), ("openid", "profile"))
    assert scope in caught.value.description
    assert scopes.validate(("openid", scope), ("openid", scope)) == ("openid", scope)


@pytest.mark.parametrize("unknown", ["addresses", "phone_number", "Address", "phone:read"])
def test_scopes_near_address_and_phone_stay_unknown(unknown: str) -> None:
    """RFC 6749 section 5.2 invalid_scope: only the table's scopes are known, not look-alikes."""
    with pytest.raises(InvalidScope) as caught:
        scopes.validate(("openid", unknown), ())
    assert "unknown scope" in caught.value.description
