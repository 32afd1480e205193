"""`tessera [--database-url URL] COMMAND ...`"""

from __future__ import annotations

import click

from tessera.cli import accounts, clients, db, keys, registration_tokens, resources, serve, tokens, users
from tessera.cli.context import CliState, say_database


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="The database (default: TESSERA_DATABASE_URL, else sqlite:///./tessera.db in this folder).",
)
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Tessera: a multi-tenant OAuth 2.0 and OpenID Connect authorization server."""
    ctx.obj = CliState(database_url=database_url)


@cli.result_callback()
def _succeeded(*_args: object, **_kwargs: object) -> None:
    say_database()


cli.add_command(serve.serve)
cli.add_command(serve.demo)
cli.add_command(db.db)
cli.add_command(accounts.accounts)
cli.add_command(users.users)
cli.add_command(clients.clients)
cli.add_command(tokens.tokens)
cli.add_command(keys.keys)
cli.add_command(resources.resources)
cli.add_command(registration_tokens.registration_tokens)


def main() -> None:
    cli(prog_name="tessera")
