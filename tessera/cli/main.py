"""`tessera [--database-url URL] COMMAND ...`

Each command's module is imported when the command runs, not before: `tessera clients
list` need not load the HTTP server, the mail catcher or the demo's sample apps, and a
command starts in about half the time it took when every module was imported up front.
"""

from __future__ import annotations

import importlib

import click

from tessera.cli.context import CliState, say_database

# Command name -> "module:attribute" of its click command or group, in tessera/cli.
COMMANDS = {
    "serve": "serve:serve",
    "demo": "serve:demo",
    "db": "db:db",
    "accounts": "accounts:accounts",
    "users": "users:users",
    "clients": "clients:clients",
    "tokens": "tokens:tokens",
    "keys": "keys:keys",
    "resources": "resources:resources",
    "registration-tokens": "registration_tokens:registration_tokens",
}


class Commands(click.Group):
    """A group whose commands are imported on first use (click's lazy loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(f"tessera.cli.{module}"), attribute)
        assert isinstance(command, click.Command) and command.name == cmd_name, target
        return command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    cli(prog_name="tessera")
