"""`tessera db upgrade`"""

from __future__ import annotations

import click

from tessera.cli.context import CliState, migrate_schema


@click.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.pass_obj
def upgrade(state: CliState) -> None:
    """Migrate the schema to the newest version (safe to run repeatedly and on many nodes)."""
    migrate_schema(state.settings(may_create=True))
    click.echo("database schema is up to date")
