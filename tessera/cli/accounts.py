"""`tessera accounts create SUBDOMAIN [--name NAME] [--json]`, `tessera accounts update SUBDOMAIN --registration POLICY`"""

from __future__ import annotations

import click

from tessera.cli.context import CliState, emit_json, run
from tessera.key_ring import key_ring_for
from tessera.management import accounts as account_rules
from tessera.management.shapes import account_json
from tessera.model import REGISTRATION_POLICIES, Account
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin


@click.group()
def accounts() -> None:
    """Manage accounts (one per subdomain)."""


@accounts.command()
@click.argument("subdomain")
@click.option("--name", default=None, help="Display name (default: the subdomain).")
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.pass_obj
def create(state: CliState, subdomain: str, name: str | None, as_json: bool) -> None:
    """Create an account at SUBDOMAIN.BASE_DOMAIN (and the database, if there is none yet)."""
    settings = state.settings(may_create=True)

    async def action(stores: Stores) -> Account:
        account = await account_rules.create(stores, subdomain, name, settings.clock())
        # Keys now, so that the first key is published before anything is signed with it.
        await key_ring_for(stores, settings).ensure(account.id)
        return account

    account = run(settings, action)
    url = origin(settings.scheme, account_host(account.subdomain, settings.base_domain))
    if as_json:
        emit_json("account", account_json(account, url))
    else:
        click.echo(f"created account {account.subdomain!r} (id {account.id}) at {url}")


@accounts.command()
@click.argument("subdomain")
@click.option(
    "--registration",
    type=click.Choice(REGISTRATION_POLICIES),
    required=True,
    help="Who may register clients at /oauth/register: off (nobody; the default), "
    "token (holders of an initial access token an admin made), open (anyone, limited and throttled).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@click.pass_obj
def update(state: CliState, subdomain: str, registration: str, as_json: bool) -> None:
    """Change an account's settings."""
    settings = state.settings()

    async def action(stores: Stores) -> Account:
        return await account_rules.set_registration_policy(stores, subdomain, registration, now=settings.clock())

    account = run(settings, action)
    url = origin(settings.scheme, account_host(account.subdomain, settings.base_domain))
    if as_json:
        emit_json("account", account_json(account, url))
    else:
        click.echo(f"account {account.subdomain!r}: dynamic client registration is {account.registration_policy}")
