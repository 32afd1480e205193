"""The management layer (INTERFACE.md section 6) over the real stores, on both engines:
validation names every bad field, each change writes its audit entry, deleting and
suspending end tokens at once, the last active admin is protected."""

from __future__ import annotations

import pytest

from tessera.management import audit_events as ev
from tessera.management import client_secrets, clients, global_clients, platform_clients, tokens, users
from tessera.management.access import require_admin
from tessera.management.errors import Forbidden, Invalid, NotFound
from tessera.model import Client
from tessera.protocol import secrets
from tessera.storage.audit import AuditFilter
from tessera.storage.stores import Stores
from tests.support import PASSWORD, Clock, World, add_client

pytestmark = pytest.mark.anyio


async def _token(stores: Stores, world: World, client: Client, user_id: int, now: float) -> tokens.CreatedToken:
    user = await users.get(stores, world.account, user_id)
    return await tokens.create(
        stores,
        world.account,
        client,
        user,
        "read",
        now,
        keys=None,
        issuer=world.origin,  # type: ignore[arg-type]
    )


async def _audit_text(stores: Stores, world: World) -> str:
    logs = await stores.audit.newest_first(world.account.id, AuditFilter())
    return "\n".join(repr(log.entry) for log in logs)


def _admin(world: World) -> ev.Actor:
    return ev.Actor(world.admin.id, world.admin.name, "203.0.113.5")


async def test_create_names_every_bad_field_and_each_bad_redirect_uri_line(
    stores: Stores, world: World, clock: Clock
) -> None:
    spec = clients.ClientSpec(
        name="",
        identifier="bad id",
        account=world.account,
        redirect_uris=("https://ok.example.com/cb", "", "http://x.com/cb", "https://a.example.com/#f"),
        access_token_lifetime=299,
        allowed_scopes=("read nonsense",),
    )
    with pytest.raises(Invalid) as caught:
        await clients.create(stores, spec, clock())
    fields = caught.value.fields
    assert set(fields) == {"name", "identifier", "redirect_uri", "access_token_lifetime", "allowed_scopes"}
    assert [m.split(":")[0] for m in fields["redirect_uri"]] == ["line 3", "line 4"]
    assert "'http://x.com/cb'" in fields["redirect_uri"][0]
    assert "name: " in str(caught.value) and "; " in str(caught.value)


async def test_update_changes_only_what_it_names_and_records_which_fields(
    stores: Stores, world: World, clock: Clock
) -> None:
    changes = clients.ClientChanges(name="Renamed", redirect_uris=("https://new.example.com/cb",))
    updated = await clients.update(stores, world.account, world.web.client.id, changes, _admin(world), clock())
    assert (updated.name, updated.redirect_uris) == ("Renamed", ("https://new.example.com/cb",))
    assert updated.company == world.web.client.company
    # The memo of this process forgets the old client at once.
    found = await stores.clients.find(world.account.id, world.web.client_id)
    assert found is not None and found.name == "Renamed"
    logs = await stores.audit.newest_first(world.account.id, AuditFilter(action=ev.UPDATE))
    assert logs[0].entry.change_description == "changed name, redirect_uri"
    assert logs[0].entry.actor_id == world.admin.id and logs[0].entry.ip_address == "203.0.113.5"


async def test_update_refuses_a_taken_identifier_and_bad_values(stores: Stores, world: World, clock: Clock) -> None:
    taken = clients.ClientChanges(identifier=world.spa.client_id)
    with pytest.raises(Invalid) as caught:
        await clients.update(stores, world.account, world.web.client.id, taken, _admin(world), clock())
    assert list(caught.value.fields) == ["identifier"]
    public_machine = clients.ClientChanges(kind="public")
    with pytest.raises(Invalid) as caught:
        await clients.update(stores, world.account, world.machine.client.id, public_machine, _admin(world), clock())
    assert "client_credentials" in caught.value.fields["grant_types"][0]
    with pytest.raises(NotFound):
        await clients.update(stores, world.account, 10**12, clients.ClientChanges(name="x"), _admin(world), clock())


async def test_delete_revokes_every_token_at_once(stores: Stores, world: World, clock: Clock) -> None:
    issued = await _token(stores, world, world.web.client, world.user.id, clock())
    assert await stores.tokens.find_access(secrets.digest(issued.full_token)) is not None  # remembered
    await clients.delete(stores, world.account, world.web.client.id, _admin(world), clock())
    assert await stores.tokens.find_access(secrets.digest(issued.full_token)) is None
    assert await stores.clients.find(world.account.id, world.web.client_id) is None
    with pytest.raises(NotFound):
        await clients.get(stores, world.account, world.web.client.id)
    with pytest.raises(NotFound):
        await clients.delete(stores, world.account, world.web.client.id, _admin(world), clock())


async def test_regenerate_keeps_the_previous_secret_for_the_overlap(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    old_hash = world.web.client.secret_hash
    client, secret = await client_secrets.regenerate_secret(
        stores, world.account, world.web.client.id, _admin(world), now, previous_secret_expires_in=3600
    )
    assert secrets.matches(secret, client.secret_hash)
    assert client.previous_secret_hash == old_hash and client.previous_secret_expires_at == now + 3600
    again, _ = await client_secrets.regenerate_secret(stores, world.account, world.web.client.id, _admin(world), now)
    assert again.previous_secret_hash is None and again.previous_secret_expires_at is None
    for bad in (-1, 604_801):
        with pytest.raises(Invalid):
            await client_secrets.regenerate_secret(stores, world.account, world.web.client.id, _admin(world), now, bad)
    with pytest.raises(Invalid):
        await client_secrets.regenerate_secret(stores, world.account, world.spa.client.id, _admin(world), now)
    text = await _audit_text(stores, world)
    assert secret not in text and secret[:9] not in text and "regenerate_secret" in text


async def test_global_clients_are_listed_when_authorized_and_revoked_per_account(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    app = await add_client(stores, None, now, redirect_uris=("https://global.example.com/cb",))
    assert await global_clients.authorized(stores, world.account, now=now) == []
    issued = await _token(stores, world, app.client, world.user.id, now)
    assert [c.id for c in await global_clients.authorized(stores, world.account, now=now)] == [app.client.id]
    assert (await global_clients.get(stores, world.account, app.client.id, now)).identifier == app.client_id
    await global_clients.revoke(stores, world.account, app.client.id, _admin(world), now)
    found = await stores.tokens.find_access(secrets.digest(issued.full_token))
    assert found is not None and found.revoked_at is not None
    assert await global_clients.authorized(stores, world.account, now=now) == []
    with pytest.raises(NotFound):
        await global_clients.revoke(stores, world.account, app.client.id, _admin(world), now)
    with pytest.raises(NotFound):  # an account's own client is not a global one
        await global_clients.get(stores, world.account, world.web.client.id, now)


async def test_the_platform_lists_rotates_and_deletes_its_global_clients(
    stores: Stores, world: World, clock: Clock
) -> None:
    """`clients list|show|rotate-secret|delete --global`: a global client is found without
    an account, and deleting it ends its tokens in every account at once."""
    now = clock()
    app = await add_client(stores, None, now, redirect_uris=("https://global.example.com/cb",))
    listed = await platform_clients.list_global(stores)
    assert app.client.id in [c.id for c in listed]
    assert all(c.is_global for c in listed)
    assert world.web.client.id not in [c.id for c in listed]
    assert (await platform_clients.get_global(stores, app.client_id)).id == app.client.id
    with pytest.raises(NotFound):  # an account's own client is not a global one
        await platform_clients.get_global(stores, world.web.client_id)
    renewed, secret = await client_secrets.regenerate_global(stores, app.client, now, previous_secret_expires_in=60)
    assert renewed.secret_hash == secrets.digest(secret) and renewed.previous_secret_hash == app.client.secret_hash
    issued = await _token(stores, world, app.client, world.user.id, now)
    await platform_clients.delete_global(stores, app.client.id)
    assert await stores.tokens.find_access(secrets.digest(issued.full_token)) is None
    with pytest.raises(NotFound):
        await platform_clients.get_global(stores, app.client_id)
    with pytest.raises(NotFound):
        await platform_clients.delete_global(stores, app.client.id)
    with pytest.raises(NotFound):  # never an account's own client
        await platform_clients.delete_global(stores, world.web.client.id)
    assert await clients.get(stores, world.account, world.web.client.id)


async def test_a_global_client_is_changed_by_the_rules_of_global_clients(
    stores: Stores, world: World, clock: Clock
) -> None:
    """`clients update --global`: the same checks as creating one; its identifier stays
    unique among every account's clients and the global ones."""
    now = clock()
    app = await add_client(stores, None, now, redirect_uris=("https://global.example.com/cb",))
    changes = clients.ClientChanges(name="Renamed", redirect_uris=("https://new.example.com/cb",))
    updated = await platform_clients.update_global(stores, app.client, changes, now)
    assert (updated.name, updated.redirect_uris, updated.is_global) == (
        "Renamed",
        ("https://new.example.com/cb",),
        True,
    )
    assert (await platform_clients.get_global(stores, app.client_id)).name == "Renamed"
    with pytest.raises(Invalid) as caught:  # global clients may not use client_credentials
        await platform_clients.update_global(
            stores, app.client, clients.ClientChanges(grant_types=("client_credentials",)), now
        )
    assert set(caught.value.fields) == {"grant_types"}
    with pytest.raises(Invalid) as taken:  # an account's identifier is taken for a global client too
        await platform_clients.update_global(
            stores, app.client, clients.ClientChanges(identifier=world.web.client_id), now
        )
    assert set(taken.value.fields) == {"identifier"}
    assert (await clients.get(stores, world.account, world.web.client.id)).name == world.web.client.name


async def test_suspending_ends_sessions_and_tokens_and_lifting_it_records(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    issued = await _token(stores, world, world.web.client, world.user.id, now)
    await stores.users.get(world.account.id, world.user.id)  # remembered
    digest = secrets.digest("a-session-cookie")
    await stores.sessions.start(None, digest, world.account.id, world.user.id, now, now + 3600)
    suspended = await users.update(
        stores, world.account, world.user.id, users.UserChanges(suspended=True), _admin(world), now
    )
    assert suspended.is_suspended
    cached = await stores.users.get(world.account.id, world.user.id)
    assert cached is not None and cached.is_suspended
    assert await stores.sessions.find(digest, now, now - 3600) is None
    token = await stores.tokens.find_access(secrets.digest(issued.full_token))
    assert token is not None and token.revoked_at is not None
    lifted = await users.update(
        stores, world.account, world.user.id, users.UserChanges(suspended=False), _admin(world), now
    )
    assert not lifted.is_suspended
    actions = [
        log.entry.action for log in await stores.audit.newest_first(world.account.id, AuditFilter(source_type=ev.USER))
    ]
    assert actions[:2] == [ev.UNSUSPEND, ev.SUSPEND]


async def test_the_last_active_admin_cannot_be_demoted_or_suspended(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    for changes, field in ((users.UserChanges(role="agent"), "role"), (users.UserChanges(suspended=True), "suspended")):
        with pytest.raises(Invalid) as caught:
            await users.update(stores, world.account, world.admin.id, changes, _admin(world), now)
        assert list(caught.value.fields) == [field]
    second = await users.create(stores, world.account, "second@example.com", None, "admin", None, now)
    demoted = await users.update(
        stores, world.account, world.admin.id, users.UserChanges(role="agent"), _admin(world), now
    )
    assert demoted.role == "agent"
    with pytest.raises(Invalid):
        await users.update(stores, world.account, second.id, users.UserChanges(suspended=True), _admin(world), now)


async def test_create_and_set_password_validate_and_never_audit_the_password(
    stores: Stores, world: World, clock: Clock
) -> None:
    now = clock()
    with pytest.raises(Invalid) as caught:
        await users.create(stores, world.account, "not-an-email", "short", "boss", "\x00", now)
    assert set(caught.value.fields) == {"email", "role", "name", "password"}
    with pytest.raises(Invalid) as caught:
        await users.create(stores, world.account, "USER@example.com", None, "agent", None, now)
    assert "already exists" in caught.value.fields["email"][0]
    made = await users.create(stores, world.account, "new@example.com", None, "agent", "New", now, _admin(world))
    with pytest.raises(Invalid):
        await users.set_password(stores, world.account, made.id, "1234567", _admin(world), now)
    await users.set_password(stores, world.account, made.id, PASSWORD + "!", _admin(world), now)
    with pytest.raises(NotFound):
        await users.set_password(stores, world.account, 10**12, PASSWORD, _admin(world), now)
    text = await _audit_text(stores, world)
    assert PASSWORD not in text and ev.SET_PASSWORD in text


async def test_token_visibility_and_revocation(stores: Stores, world: World, clock: Clock) -> None:
    now = clock()
    mine = await _token(stores, world, world.web.client, world.user.id, now)
    admins = await _token(stores, world, world.web.client, world.admin.id, now)
    with pytest.raises(Forbidden):
        await tokens.list_visible(stores, world.account, world.user, tokens.TokenQuery(everyone=True), now)
    with pytest.raises(Forbidden):
        await tokens.list_visible(stores, world.account, world.user, tokens.TokenQuery(user_id=world.admin.id), now)
    own = await tokens.list_visible(stores, world.account, world.user, tokens.TokenQuery(), now)
    assert [t.id for t in own] == [mine.token.id]
    by_client = tokens.TokenQuery(client_id=world.web.client.id)
    listed = await tokens.list_visible(stores, world.account, world.admin, by_client, now)
    assert [t.id for t in listed] == [mine.token.id, admins.token.id]
    with pytest.raises(NotFound):
        await tokens.visible(stores, world.account, world.user, admins.token.id, now)
    await tokens.revoke(stores, world.account, world.admin, mine.token.id, _admin(world), now)
    with pytest.raises(NotFound):
        await tokens.visible(stores, world.account, world.admin, mine.token.id, now)
    text = await _audit_text(stores, world)
    assert mine.full_token[:10] not in text and "revoke" in text


async def test_require_admin_says_what_is_missing(world: World) -> None:
    require_admin(world.admin)
    with pytest.raises(Forbidden, match="only admins"):
        require_admin(world.user)


async def test_registration_policy_defaults_off_and_changes_are_seen_at_once(stores: Stores, world: World) -> None:
    """INTERFACE.md section 8: registration is `off` unless an admin opens it; the change is
    seen by the next lookup on this node (the account memo is cleared by the write)."""
    from tessera.management import accounts
    from tessera.management.errors import ManagementError

    assert (await stores.accounts.by_subdomain(world.subdomain)).registration_policy == "off"  # type: ignore[union-attr]
    updated = await accounts.set_registration_policy(stores, world.subdomain, "token")
    assert updated.registration_policy == "token"
    assert (await stores.accounts.by_subdomain(world.subdomain)).registration_policy == "token"  # type: ignore[union-attr]
    with pytest.raises(ManagementError, match="not one of: off, token, open"):
        await accounts.set_registration_policy(stores, world.subdomain, "public")
    with pytest.raises(NotFound):
        await accounts.set_registration_policy(stores, f"nobody-{world.subdomain}", "open")
