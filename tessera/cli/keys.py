"""`tessera keys rotate --account SUB`"""

from __future__ import annotations

import click

from tessera.cli.context import CliState, run
from tessera.key_ring import key_ring_for
from tessera.management import accounts as account_rules
from tessera.storage.stores import Stores


@click.group()
def keys() -> None:
    """Manage an account's signing keys."""


@keys.command()
@click.option("--account", "subdomain", required=True)
@click.pass_obj
def rotate(state: CliState, subdomain: str) -> None:
    """Sign with the key published ahead of time; publish a new next key.

    The previous key stays in the JWKS until every token it signed has expired, so
    tokens issued before the rotation keep validating.
    """
    settings = state.settings()

    async def action(stores: Stores) -> list[str]:
        account = await account_rules.get(stores, subdomain)
        return await key_ring_for(stores, settings).rotate(account.id)

    kids = run(settings, action)
    click.echo(f"account {subdomain!r} now signs with key ids: {', '.join(kids)}")
