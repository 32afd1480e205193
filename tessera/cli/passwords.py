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


def read_password(given: str | None, from_stdin: bool) -> str:
    if given is not None and from_stdin:
        raise click.UsageError("give the password one way: --password or --password-stdin, not both")
    if given is not None:
        return given
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail(
                "--password-stdin read no password: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | tessera users create ..."
            )
        return line
    if not _interactive():
        fail(
            "no password given: use --password-stdin (reads the first line of stdin) or --password, or run in a terminal to be asked"
        )
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password", err=True)
    return value
