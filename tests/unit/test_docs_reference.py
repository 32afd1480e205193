"""docs/cli.md and docs/api.md are generated from the code (the commands' help, the OpenAPI
document the app serves): each must equal what scripts/docs-reference writes today."""

from __future__ import annotations

import re

import click
import pytest

from tessera import docs_reference
from tessera.cli import reference as cli_reference
from tessera.cli.main import cli

GENERATED = docs_reference.generated()


@pytest.mark.parametrize("path", sorted(GENERATED), ids=lambda path: path.name)
def test_the_reference_is_up_to_date(path) -> None:  # type: ignore[no-untyped-def]
    assert path.exists(), f"{path.name} is missing: run scripts/docs-reference"
    assert path.read_text() == GENERATED[path], f"{path.name} is out of date: run scripts/docs-reference"


def test_the_cli_reference_has_every_command_and_option() -> None:
    text = cli_reference.markdown()
    context = click.Context(cli, info_name="tessera")
    groups = [cli.get_command(context, name) for name in cli.list_commands(context)]
    assert len(groups) >= 10, "every top-level command is listed (serve, demo, db, accounts, ...)"
    for group in groups:
        assert group is not None
        commands = getattr(group, "commands", {group.name: group})
        for command in commands.values():
            name = f"tessera {group.name}" + ("" if command is group else f" {command.name}")
            assert f"\n## {name}\n" in text
            for option in command.params:
                for flag in getattr(option, "opts", []):
                    if flag.startswith("--"):
                        assert re.search(rf"{re.escape(flag)}\b", text), (name, flag)


def test_the_api_reference_lists_every_served_operation() -> None:
    text = GENERATED[docs_reference.DOCS / "api.md"]
    for path, methods in docs_reference.api_reference.served_document()["paths"].items():
        for method in methods:
            assert f"### `{method.upper()} {path.removesuffix('.json')}`" in text
