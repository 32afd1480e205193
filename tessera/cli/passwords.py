"""A password for a command: typed at a hidden prompt, piped on stdin, or given as an option.

An option shows in the shell's history and in `ps` to every user of the machine, so a
person at a terminal is asked instead (twice, to catch a typo), and a script can pipe it
with `--password-stdin`. The password is never echoed or printed.
"""

from __future__ import annotations

import sys

import click

from tessera.cli.context import fail


def _interactive() -> bool:
    return sys.stdin.isatty()


def check_password_source(given: str | None, from_stdin: bool) -> None:
    """Usage mistakes, found before anything else runs: both ways at once, or no way at all
    where nobody can be asked (then, as before prompts existed, click's "Missing option
    '--password'" with the usage, and how else to give it)."""
    if given is not None and from_stdin:
        raise click.UsageError("give the password one way: --password or --password-stdin, not both")
    if given is None and not from_stdin and not _interactive():
        context = click.get_current_context()
        option = next(param for param in context.command.params if param.name == "password")
        raise click.MissingParameter(
            "Pipe it with --password-stdin, or run the command in a terminal to be asked for it.",
            ctx=context,
            param=option,
        )


def read_password(given: str | None, from_stdin: bool) -> str:
    """The password, once check_password_source passed: as given, from stdin, or asked."""
    if given is not None:
        return given
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail(
                "--password-stdin read no password: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | tessera users create ..."
            )
        return line
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password", err=True)
    return value
