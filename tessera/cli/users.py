"""`tessera users create|list|update|set-password` (INTERFACE.md sections 1 and 6).

    tessera users create --account SUB --email E [--password P | --password-stdin] [--role ROLE] [--name N] [--json]
    tessera users list --account SUB [--json]
    tessera users update --account SUB --email E [--name N] [--role R] [--suspend|--unsuspend] [--json]
    tessera users set-password --account SUB --email E [--password P | --password-stdin]

A user is named by email, as `users create` takes it (a bare EMAIL argument works too).
"""

from __future__ import annotations

import click

from tessera.cli.context import CliState, account_origin, addressed, emit_json, fail, run
from tessera.cli.passwords import check_password_source, read_password
from tessera.management import accounts as account_rules
from tessera.management import users as user_rules
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.paging import every
from tessera.management.shapes import user_json
from tessera.model import ROLES, User
from tessera.storage.stores import Stores


@click.group()
def users() -> None:
    """Manage users of an account."""


@users.command()
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--email", required=True)
@click.option(
    "--password",
    default=None,
    help="At least 8 characters. Omit it to be asked for it (hidden, twice) in a terminal.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
@click.option("--role", type=click.Choice(ROLES), default="end-user", show_default=True)
@click.option("--name", default=None, help="Display name (default: the email's local part).")
@click.option("--json", "as_json", is_flag=True, help="Print the user as JSON.")
@click.pass_obj
def create(
    state: CliState,
    subdomain: str,
    email: str,
    password: str | None,
    password_stdin: bool,
    role: str,
    name: str | None,
    as_json: bool,
) -> None:
    """Create a user who can sign in to the account."""
    check_password_source(password, password_stdin)
    settings = state.settings()
    password = read_password(password, password_stdin)

    async def action(stores: Stores):  # type: ignore[no-untyped-def]
        account = await account_rules.get(stores, subdomain)
        return await user_rules.create(stores, account, email, password, role, name, settings.clock())

    user = run(settings, action)
    if as_json:
        emit_json("user", user_json(user, account_origin(settings, subdomain)))
    else:
        click.echo(f"created {user.role} {user.email} (id {user.id}) on account {subdomain!r}")


# --- listing and changing users, addressed by email (INTERFACE.md section 6, CLI) --------


@users.command("list")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--json", "as_json", is_flag=True, help='Print {"users": [...]}.')
@click.pass_obj
def list_users(state: CliState, subdomain: str, as_json: bool) -> None:
    """List the account's users, oldest first."""
    settings = state.settings()

    async def action(stores: Stores) -> list[User]:
        account = await account_rules.get(stores, subdomain)
        return await every(lambda after_id: user_rules.list_users(stores, account, after_id=after_id))

    found = run(settings, action)
    if as_json:
        emit_json("users", [user_json(user, account_origin(settings, subdomain)) for user in found])
        return
    for user in found:
        suspended = "  (suspended)" if user.is_suspended else ""
        click.echo(f"{user.id:>6}  {user.email:<40}  {user.role:<9}  {user.name}{suspended}")


@users.command()
@click.argument("email_argument", metavar="[EMAIL]", required=False)
@click.option("--email", "email_option", metavar="EMAIL", help="The user's email.")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--name", default=None)
@click.option("--role", type=click.Choice(ROLES), default=None)
@click.option(
    "--suspend/--unsuspend",
    "suspended",
    default=None,
    help="A suspended user cannot sign in; their sessions and tokens stop working at once.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"user": {...}}.')
@click.pass_obj
def update(
    state: CliState,
    email_argument: str | None,
    email_option: str | None,
    subdomain: str,
    name: str | None,
    role: str | None,
    suspended: bool | None,
    as_json: bool,
) -> None:
    """Change a user's name, role, or suspension; the last active admin stays an active admin."""
    settings = state.settings()
    email = addressed(email_argument, email_option, "--email")
    if name is None and role is None and suspended is None:
        fail("nothing to change: give --name, --role, --suspend or --unsuspend")
    changes = user_rules.UserChanges(name=name, role=role, suspended=suspended)

    async def action(stores: Stores) -> User:
        account = await account_rules.get(stores, subdomain)
        user = await user_rules.by_email(stores, account, email)
        return await user_rules.update(stores, account, user.id, changes, SYSTEM_ACTOR, settings.clock())

    user = run(settings, action)
    if as_json:
        emit_json("user", user_json(user, account_origin(settings, subdomain)))
        return
    state_word = "suspended" if user.is_suspended else "active"
    click.echo(f"updated {user.email} (id {user.id}): {user.role}, {state_word}, name {user.name!r}")


@users.command("set-password")
@click.argument("email_argument", metavar="[EMAIL]", required=False)
@click.option("--email", "email_option", metavar="EMAIL", help="The user's email.")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option(
    "--password",
    default=None,
    help="At least 8 characters. Omit it to be asked for it (hidden, twice) in a terminal.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
@click.pass_obj
def set_password(
    state: CliState,
    email_argument: str | None,
    email_option: str | None,
    subdomain: str,
    password: str | None,
    password_stdin: bool,
) -> None:
    """Give a user a new password (where no e-mail is sent for password resets); it also
    lifts the throttle on their sign-ins. Audited."""
    settings = state.settings()
    email = addressed(email_argument, email_option, "--email")
    check_password_source(password, password_stdin)
    new_password = read_password(password, password_stdin)

    async def action(stores: Stores) -> User:
        account = await account_rules.get(stores, subdomain)
        user = await user_rules.by_email(stores, account, email)
        await user_rules.set_password(stores, account, user.id, new_password, SYSTEM_ACTOR, settings.clock())
        return user

    user = run(settings, action)
    click.echo(f"set a new password for {user.email} (id {user.id})")
