"""`tessera tokens create ...`"""

from __future__ import annotations

import click

from tessera import housekeeping
from tessera.cli.context import CliState, emit_json, run
from tessera.key_ring import key_ring_for
from tessera.management import accounts as account_rules
from tessera.management import tokens as token_rules
from tessera.management import users as user_rules
from tessera.management.shapes import token_json
from tessera.storage import purge as purge_rows
from tessera.storage.stores import Stores
from tessera.urls import SERVE_PORT, account_host, origin


@click.group()
def tokens() -> None:
    """Manage access tokens."""


@tokens.command()
@click.option("--account", "subdomain", required=True)
@click.option("--client", "identifier", required=True, help="The client's identifier.")
@click.option("--user", "email", required=True, help="The email of the user the token acts as.")
@click.option("--scopes", required=True, help='Space-separated, e.g. "read write".')
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="The port clients reach the server on: the issuer of JWT access tokens (iss, aud) and the URLs of "
    "--json name it. Default: 8000, tessera serve's, when the base domain is localhost; else the scheme's own.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def create(
    state: CliState, subdomain: str, identifier: str, email: str, scopes: str, port: int | None, as_json: bool
) -> None:
    """Issue a token as if the user had authorized the client."""
    settings = state.settings()
    default_port = {"http": 80, "https": 443}[settings.scheme]
    if port is None and settings.base_domain == "localhost":
        port = SERVE_PORT  # where `tessera serve` is reached unless told otherwise
    url = origin(settings.scheme, account_host(subdomain, settings.base_domain, None if port == default_port else port))

    async def action(stores: Stores) -> token_rules.CreatedToken:
        account = await account_rules.get(stores, subdomain)
        client = await token_rules.client_for(stores, account, identifier)
        user = await user_rules.by_email(stores, account, email)
        keys = key_ring_for(stores, settings)
        return await token_rules.create(stores, account, client, user, scopes, settings.clock(), keys=keys, issuer=url)

    created = run(settings, action)
    if as_json:
        emit_json("token", token_json(created.token, url, created.full_token, created.refresh_token))
        return
    click.echo(f"access token (shown only now): {created.full_token}")
    if created.refresh_token:
        click.echo(f"refresh token (shown only now): {created.refresh_token}")


@tokens.command()
@click.pass_obj
def purge(state: CliState) -> None:
    """Delete expired and revoked tokens, codes and sessions, in batches."""
    settings = state.settings()

    async def action(stores: Stores) -> purge_rows.Purged:
        return await housekeeping.purge_once(stores.db, settings)

    purged = run(settings, action)
    details = ", ".join(f"{count} {table}" for table, count in purged.counts.items())
    click.echo(f"purged {purged.total} rows ({details})")
