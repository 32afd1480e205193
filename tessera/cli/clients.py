"""`tessera clients create|list|show|update|delete|rotate-secret` (INTERFACE.md sections 1 and 6).

A client is named by its identifier, `--identifier ID` as `clients create` takes it (a
bare IDENTIFIER argument works too); the commands act as the system, and the management
layer records each change in the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import IO, Any

import click

from tessera.cli.context import CliState, account_origin, addressed, emit_json, every, fail, run
from tessera.management import accounts as account_rules
from tessera.management import client_secrets
from tessera.management import clients as client_rules
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.shapes import client_json
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, GRANT_TYPES, SIGNING_ALGS, Account, Client
from tessera.settings import Settings
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin

_JWKS_HELP = (
    "A file holding the client's public JWK set (JSON); the client then authenticates with "
    "private_key_jwt (RFC 7523) and has no secret."
)


def _jwks_text(source: IO[str] | None) -> str | None:
    """The key set file's text; the rules (client_rules.py) say what is wrong with it."""
    if source is None:
        return None
    try:
        text = source.read(client_rules.MAX_JWKS_READ)
    except UnicodeDecodeError:
        fail(f"--jwks {source.name}: not UTF-8 text; give a JSON JWK set file")
    if not text.strip():
        fail(f"--jwks {source.name}: the file is empty; give a JSON JWK set file")
    return text


@click.group()
def clients() -> None:
    """Manage OAuth clients."""


@clients.command()
@click.option("--account", "subdomain", default=None, help="The account's subdomain (omit with --global).")
@click.option("--name", required=True)
@click.option("--identifier", required=True, help="The OAuth client_id.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several.")
@click.option("--kind", type=click.Choice(CLIENT_KINDS), default="confidential", show_default=True)
@click.option(
    "--grant-type",
    "grant_types",
    type=click.Choice(GRANT_TYPES),
    multiple=True,
    help="Repeat for several (default: authorization_code and refresh_token).",
)
@click.option("--allowed-scope", "allowed_scopes", multiple=True, help="Repeat for several (default: any).")
@click.option("--access-token-lifetime", default=None, metavar="SECONDS|never")
@click.option("--refresh-token-lifetime", type=int, default=None, metavar="SECONDS")
@click.option("--access-token-format", type=click.Choice(ACCESS_TOKEN_FORMATS), default="opaque", show_default=True)
@click.option(
    "--signing-alg",
    type=click.Choice(SIGNING_ALGS),
    default="ES256",
    show_default=True,
    help="Signs the client's ID tokens and JWT access tokens.",
)
@click.option("--introspection", is_flag=True, help="A resource server: may introspect any token of its account.")
@click.option("--global", "is_global", is_flag=True, help="The client belongs to the platform, not to an account.")
@click.option("--owner", default=None, metavar="EMAIL", help="The user client_credentials tokens act as.")
@click.option("--description", default="")
@click.option("--company", default="")
@click.option("--logo-url", default="")
@click.option(
    "--require-par/--no-require-par",
    default=False,
    help="Authorization requests only through the PAR endpoint (RFC 9126).",
)
@click.option("--jwks", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE", help=_JWKS_HELP)
@click.option(
    "--require-dpop/--no-require-dpop",
    "require_dpop",
    default=None,
    help="Issue tokens only with a DPoP proof, bound to the client's key (RFC 9449).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the client as JSON, secret included.")
@click.pass_obj
def create(state: CliState, /, subdomain: str | None, is_global: bool, as_json: bool, **options: object) -> None:
    """Register an OAuth client; a confidential client's secret is shown this once."""
    settings = state.settings()
    if is_global and subdomain:
        fail("a global client belongs to no account: omit --account with --global")
    if not is_global and not subdomain:
        fail("--account SUBDOMAIN is required (or --global for a platform client)")
    jwks = _jwks_text(options["jwks"])  # type: ignore[arg-type]

    async def action(stores: Stores) -> tuple[Client, str | None]:
        account = None if is_global else await account_rules.get(stores, subdomain or "")
        spec = client_rules.ClientSpec(
            account=account,
            name=str(options["name"]),
            identifier=str(options["identifier"]),
            redirect_uris=tuple(options["redirect_uris"]),  # type: ignore[arg-type]
            kind=str(options["kind"]),
            grant_types=tuple(options["grant_types"]),  # type: ignore[arg-type]
            allowed_scopes=tuple(options["allowed_scopes"]),  # type: ignore[arg-type]
            access_token_lifetime=options["access_token_lifetime"],  # type: ignore[arg-type]
            refresh_token_lifetime=options["refresh_token_lifetime"],  # type: ignore[arg-type]
            access_token_format=str(options["access_token_format"]),
            signing_alg=str(options["signing_alg"]),
            introspection=bool(options["introspection"]),
            owner_email=options["owner"],  # type: ignore[arg-type]
            description=str(options["description"]),
            company=str(options["company"]),
            logo_url=str(options["logo_url"]),
            require_par=bool(options["require_par"]),
            jwks=jwks,
            require_dpop=bool(options["require_dpop"]),
        )
        return await client_rules.create(stores, spec, settings.clock())

    client, secret = run(settings, action)
    host = settings.base_domain if is_global else account_host(subdomain or "", settings.base_domain)
    if as_json:
        emit_json("client", client_json(client, origin(settings.scheme, host), secret=secret))
        return
    click.echo(f"created {client.kind} client {client.identifier!r} (id {client.id})")
    if secret:
        click.echo(f"client secret (shown only now): {secret}")
    if client.jwks:
        click.echo("authenticates with private_key_jwt (RFC 7523) using its registered key set; no secret")


# --- the account's clients, addressed by identifier (INTERFACE.md section 6, CLI) -------

_ACCOUNT = click.option("--account", "subdomain", required=True, help="The account's subdomain.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON, wrapped as the API wraps it.")
_NAMED = click.argument("identifier_argument", metavar="[IDENTIFIER]", required=False)
_IDENTIFIER = click.option("--identifier", "identifier_option", metavar="ID", help="The client's identifier.")


def _one_client(command: Callable[..., None]) -> Callable[..., None]:
    """A command on one client of an account: `--account SUB` and the client named by a bare
    IDENTIFIER or by `--identifier ID`, passed to the command as `identifier`."""

    @wraps(command)
    def named(*args: Any, identifier_argument: str | None, identifier_option: str | None, **kwargs: Any) -> None:
        command(*args, identifier=addressed(identifier_argument, identifier_option, "--identifier"), **kwargs)

    return _NAMED(_IDENTIFIER(_ACCOUNT(named)))


async def _client(stores: Stores, subdomain: str, identifier: str) -> tuple[Account, Client]:
    account = await account_rules.get(stores, subdomain)
    return account, await client_rules.get_by_identifier(stores, account, identifier)


def _emit(settings: Settings, subdomain: str, client: Client, secret: str | None = None) -> None:
    emit_json("client", client_json(client, account_origin(settings, subdomain), secret=secret))


@clients.command("list")
@_ACCOUNT
@_JSON
@click.pass_obj
def list_clients(state: CliState, subdomain: str, as_json: bool) -> None:
    """List the account's own clients, oldest first."""
    settings = state.settings()

    async def action(stores: Stores) -> list[Client]:
        account = await account_rules.get(stores, subdomain)
        return await every(lambda after_id: client_rules.list_for_account(stores, account, after_id=after_id))

    found = run(settings, action)
    url = account_origin(settings, subdomain)
    if as_json:
        emit_json("clients", [client_json(client, url) for client in found])
        return
    if not found:
        click.echo(f"no clients on account {subdomain!r}")
    for client in found:
        click.echo(f"{client.id:>6}  {client.identifier:<32}  {client.kind:<12}  {client.name}")


@clients.command()
@_one_client
@_JSON
@click.pass_obj
def show(state: CliState, identifier: str, subdomain: str, as_json: bool) -> None:
    """Show a client (its secret: the first 9 characters only)."""
    settings = state.settings()
    _account, client = run(settings, lambda stores: _client(stores, subdomain, identifier))
    body = client_json(client, account_origin(settings, subdomain))
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
@click.option("--jwks", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE", help=_JWKS_HELP)
@click.option("--no-jwks", is_flag=True, help="Remove the registered key set (then give the client a secret).")
@click.option(
    "--require-dpop/--no-require-dpop",
    "require_dpop",
    default=None,
    help="Issue tokens only with a DPoP proof, bound to the client's key (RFC 9449).",
)
@_JSON
@click.pass_obj
def update(state: CliState, /, identifier: str, subdomain: str, as_json: bool, **options: Any) -> None:
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
        jwks="" if options["no_jwks"] else _jwks_text(options["jwks"]),
        require_dpop=options["require_dpop"],
    )
    if options["no_jwks"] and options["jwks"] is not None:
        fail("give either --jwks FILE or --no-jwks, not both")
    if not changes.names():
        fail("nothing to change: give at least one option, e.g. --name or --redirect-uri (see --help)")

    async def action(stores: Stores) -> Client:
        account, client = await _client(stores, subdomain, identifier)
        return await client_rules.update(stores, account, client.id, changes, SYSTEM_ACTOR, settings.clock())

    client = run(settings, action)
    if as_json:
        _emit(settings, subdomain, client)
        return
    click.echo(f"updated client {client.identifier!r} (id {client.id}): {', '.join(changes.names())}")
    if changes.jwks:
        click.echo("it authenticates with private_key_jwt now; its client secret no longer works")


@clients.command()
@_one_client
@_JSON
@click.pass_obj
def delete(state: CliState, identifier: str, subdomain: str, as_json: bool) -> None:
    """Delete a client; every token, code and consent of it is revoked at once."""
    settings = state.settings()

    async def action(stores: Stores) -> Client:
        account, client = await _client(stores, subdomain, identifier)
        await client_rules.delete(stores, account, client.id, SYSTEM_ACTOR, settings.clock())
        return client

    client = run(settings, action)
    if as_json:
        _emit(settings, subdomain, client)
        return
    click.echo(f"deleted client {client.identifier!r} (id {client.id}); its tokens, codes and consents are revoked")


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
def rotate_secret(state: CliState, identifier: str, subdomain: str, grace: int, as_json: bool) -> None:
    """Give a confidential client a new secret, shown this once."""
    settings = state.settings()

    async def action(stores: Stores) -> tuple[Client, str]:
        account, client = await _client(stores, subdomain, identifier)
        now = settings.clock()
        return await client_secrets.regenerate_secret(
            stores, account, client.id, SYSTEM_ACTOR, now, previous_secret_expires_in=grace
        )

    client, secret = run(settings, action)
    if as_json:
        _emit(settings, subdomain, client, secret)
        return
    click.echo(f"client secret of {client.identifier!r} (shown only now): {secret}")
    old = f"keeps working for {grace} seconds" if grace else "stopped working"
    click.echo(f"the previous secret {old}")
