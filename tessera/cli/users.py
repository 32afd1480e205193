"""`tessera users create --account SUB --email E --password P [--role ROLE] [--name N] [--json]`"""

from __future__ import annotations

import click

from tessera.cli.context import CliState, emit_json, run
from tessera.management import accounts as account_rules
from tessera.management import users as user_rules
from tessera.management.shapes import user_json
from tessera.model import ROLES
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin


@click.group()
def users() -> None:
    """Manage users of an account."""


@users.command()
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", type=click.Choice(ROLES), default="end-user", show_default=True)
@click.option("--name", default=None, help="Display name (default: the email's local part).")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_obj
def create(
    state: CliState, subdomain: str, email: str, password: str, role: str, name: str | None, as_json: bool
) -> None:
    """Create a user who can sign in to the account."""
    settings = state.settings()

    async def action(stores: Stores):  # type: ignore[no-untyped-def]
        account = await account_rules.get(stores, subdomain)
        return await user_rules.create(stores, account, email, password, role, name, settings.clock())

    user = run(settings, action)
    if as_json:
        emit_json("user", user_json(user, origin(settings.scheme, account_host(subdomain, settings.base_domain))))
    else:
        click.echo(f"created {user.role} {user.email} (id {user.id}) on account {subdomain!r}")
