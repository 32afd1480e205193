"""`tessera clients create|list|show|update|delete|rotate-secret` (INTERFACE.md sections 1 and 6);
`create` is client_create.py's.

A client is named by its identifier, `--identifier ID` as `clients create` takes it (a
bare IDENTIFIER argument works too); the commands act as the system, and the management
layer records each change in the audit log. Every command but `create` also takes
`--global` instead of `--account`, for the platform's global clients (whose changes no
account's audit log records).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click

from tessera.cli.client_create import JWKS_HELP, account_or_global, create, jwks_text
from tessera.cli.context import CliState, account_origin, addressed, emit_json, fail, run
from tessera.management import accounts as account_rules
from tessera.management import client_secrets, platform_clients
from tessera.management import clients as client_rules
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.paging import every
from tessera.management.shapes import client_json
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, GRANT_TYPES, Account, Client
from tessera.settings import Settings
from tessera.storage.stores import Stores
from tessera.urls import origin


@click.group()
def clients() -> None:
    """Manage OAuth clients."""


clients.add_command(create)


# --- the account's clients, addressed by identifier (INTERFACE.md section 6, CLI) -------

_ACCOUNT_OR_GLOBAL = click.option("--account", "subdomain", default=None, help="The account's subdomain (or --global).")
_GLOBAL = click.option(
    "--global", "is_global", is_flag=True, help="A global client (the platform's) instead of an account's."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON, wrapped as the API wraps it.")
_NAMED = click.argument("identifier_argument", metavar="[IDENTIFIER]", required=False)
_IDENTIFIER = click.option("--identifier", "identifier_option", metavar="ID", help="The client's identifier.")


def _usage_mistake(message: str) -> NoReturn:
    """Which record a command is about is a usage mistake (as --account was, required)."""
    raise click.UsageError(message)


def _one_client(command: Callable[..., None]) -> Callable[..., None]:
    """A command on one client: of an account (`--account SUB`) or, with `--global`, a global
    one, named by a bare IDENTIFIER or by `--identifier ID`. The command gets `identifier`
    and `where`, the account's subdomain or None for a global client."""

    @wraps(command)
    def named(
        *args: Any,
        identifier_argument: str | None,
        identifier_option: str | None,
        subdomain: str | None,
        is_global: bool,
        **kwargs: Any,
    ) -> None:
        identifier = addressed(identifier_argument, identifier_option, "--identifier")
        where = account_or_global(subdomain, is_global, _usage_mistake)
        command(*args, identifier=identifier, where=where, **kwargs)

    return _NAMED(_IDENTIFIER(_ACCOUNT_OR_GLOBAL(_GLOBAL(named))))


async def _client(stores: Stores, where: str | None, identifier: str) -> tuple[Account | None, Client]:
    """The account (None for a global client) and the client."""
    if where is None:
        return None, await platform_clients.get_global(stores, identifier)
    account = await account_rules.get(stores, where)
    return account, await client_rules.get_by_identifier(stores, account, identifier)


def _named(where: str | None) -> str:
    """The options that name `where` again, for a command to suggest."""
    return "--global" if where is None else f"--account {where}"


def _origin(settings: Settings, where: str | None) -> str:
    return origin(settings.scheme, settings.base_domain) if where is None else account_origin(settings, where)


def _emit(settings: Settings, where: str | None, client: Client, secret: str | None = None) -> None:
    emit_json("client", client_json(client, _origin(settings, where), secret=secret))


@clients.command("list")
@_ACCOUNT_OR_GLOBAL
@_GLOBAL
@_JSON
@click.pass_obj
def list_clients(state: CliState, subdomain: str | None, is_global: bool, as_json: bool) -> None:
    """List the account's own clients (or, with --global, the global ones), oldest first."""
    where = account_or_global(subdomain, is_global, _usage_mistake)
    settings = state.settings()

    async def action(stores: Stores) -> list[Client]:
        if where is None:
            return await every(lambda after_id: platform_clients.list_global(stores, after_id=after_id))
        account = await account_rules.get(stores, where)
        return await every(lambda after_id: client_rules.list_for_account(stores, account, after_id=after_id))

    found = run(settings, action)
    url = _origin(settings, where)
    if as_json:
        emit_json("clients", [client_json(client, url) for client in found])
        return
    if not found:
        click.echo("no global clients" if where is None else f"no clients on account {where!r}")
    for client in found:
        click.echo(f"{client.id:>6}  {client.identifier:<32}  {client.kind:<12}  {client.name}")


@clients.command()
@_one_client
@_JSON
@click.pass_obj
def show(state: CliState, identifier: str, where: str | None, as_json: bool) -> None:
    """Show a client (its secret: the first 9 characters only)."""
    settings = state.settings()
    _account, client = run(settings, lambda stores: _client(stores, where, identifier))
    body = client_json(client, _origin(settings, where))
    if as_json:
        emit_json("client", body)
        return
    for key, value in body.items():
        if isinstance(value, dict):
            value = json.dumps(value)
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else value)
        click.echo(f"{key + ':':<24}{shown}")


@clients.command()
@_one_client
@click.option("--name", default=None)
@click.option("--new-identifier", default=None, metavar="ID", help="Change the client's identifier (client_id).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces the list; repeat for several.")
@click.option("--kind", type=click.Choice(CLIENT_KINDS), default=None)
@click.option("--grant-type", "grant_types", type=click.Choice(GRANT_TYPES), multiple=True, help="Replaces the list.")
@click.option("--allowed-scope", "allowed_scopes", multiple=True, help="Replaces the list; repeat for several.")
@click.option("--access-token-lifetime", default=None, metavar="SECONDS|never")
@click.option("--refresh-token-lifetime", type=int, default=None, metavar="SECONDS")
@click.option("--access-token-format", type=click.Choice(ACCESS_TOKEN_FORMATS), default=None)
@click.option("--description", default=None)
@click.option("--company", default=None)
@click.option("--logo-url", default=None)
@click.option(
    "--require-par/--no-require-par",
    default=None,
    help="Authorization requests only through the PAR endpoint (RFC 9126).",
)
@click.option("--jwks", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE", help=JWKS_HELP)
@click.option("--no-jwks", is_flag=True, help="Remove the registered key set (then give the client a secret).")
@click.option(
    "--require-dpop/--no-require-dpop",
    "require_dpop",
    default=None,
    help="Issue tokens only with a DPoP proof, bound to the client's key (RFC 9449).",
)
@_JSON
@click.pass_obj
def update(state: CliState, /, identifier: str, where: str | None, as_json: bool, **options: Any) -> None:
    """Change a client; only the options given change, and a list option replaces the list."""
    settings = state.settings()
    changes = client_rules.ClientChanges(
        name=options["name"],
        identifier=options["new_identifier"],
        kind=options["kind"],
        redirect_uris=tuple(options["redirect_uris"]) or None,
        company=options["company"],
        description=options["description"],
        logo_url=options["logo_url"],
        grant_types=tuple(options["grant_types"]) or None,
        allowed_scopes=tuple(options["allowed_scopes"]) or None,
        access_token_lifetime=options["access_token_lifetime"],
        refresh_token_lifetime=options["refresh_token_lifetime"],
        access_token_format=options["access_token_format"],
        require_par=options["require_par"],
        jwks="" if options["no_jwks"] else jwks_text(options["jwks"]),
        require_dpop=options["require_dpop"],
    )
    if options["no_jwks"] and options["jwks"] is not None:
        fail("give either --jwks FILE or --no-jwks, not both")
    if not changes.names():
        fail("nothing to change: give at least one option, e.g. --name or --redirect-uri (see --help)")

    async def action(stores: Stores) -> Client:
        account, client = await _client(stores, where, identifier)
        if account is None:
            return await platform_clients.update_global(stores, client, changes, settings.clock())
        return await client_rules.update(stores, account, client.id, changes, SYSTEM_ACTOR, settings.clock())

    client = run(settings, action)
    if as_json:
        _emit(settings, where, client)
        return
    click.echo(f"updated client {client.identifier!r} (id {client.id}): {', '.join(changes.names())}")
    if changes.jwks:
        click.echo("it authenticates with private_key_jwt now; its client secret no longer works")
    elif not client.is_public and client.secret_hash is None and not client.jwks:
        click.echo(
            f"it has no secret yet, so it cannot authenticate: make one with "
            f"'tessera clients rotate-secret {_named(where)} {shlex.quote(client.identifier)}'"
        )


@clients.command()
@_one_client
@_JSON
@click.pass_obj
def delete(state: CliState, identifier: str, where: str | None, as_json: bool) -> None:
    """Delete a client; every token, code and consent of it is revoked at once."""
    settings = state.settings()

    async def action(stores: Stores) -> Client:
        account, client = await _client(stores, where, identifier)
        if account is None:
            await platform_clients.delete_global(stores, client.id)
        else:
            await client_rules.delete(stores, account, client.id, SYSTEM_ACTOR, settings.clock())
        return client

    client = run(settings, action)
    if as_json:
        _emit(settings, where, client)
        return
    everywhere = " in every account" if where is None else ""
    click.echo(
        f"deleted client {client.identifier!r} (id {client.id}); its tokens, codes and consents are revoked{everywhere}"
    )


@clients.command("rotate-secret")
@_one_client
@click.option(
    "--previous-secret-expires-in",
    "grace",
    type=int,
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="How long the old secret keeps working (0 to 604800), so an app can roll it without downtime.",
)
@_JSON
@click.pass_obj
def rotate_secret(state: CliState, identifier: str, where: str | None, grace: int, as_json: bool) -> None:
    """Give a confidential client a new secret, shown this once."""
    settings = state.settings()

    async def action(stores: Stores) -> tuple[Client, str, bool]:
        account, client = await _client(stores, where, identifier)
        now = settings.clock()
        if account is None:
            renewed, secret = await client_secrets.regenerate_global(stores, client, now, grace)
        else:
            renewed, secret = await client_secrets.regenerate_secret(
                stores, account, client.id, SYSTEM_ACTOR, now, previous_secret_expires_in=grace
            )
        return renewed, secret, client.secret_hash is not None

    client, secret, had_secret = run(settings, action)
    if as_json:
        _emit(settings, where, client, secret)
        return
    click.echo(f"client secret of {client.identifier!r} (shown only now): {secret}")
    if had_secret:
        old = f"keeps working for {grace} seconds" if grace else "stopped working"
        click.echo(f"the previous secret {old}")
