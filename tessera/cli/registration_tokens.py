"""`tessera registration-tokens create|list|revoke --account SUB`: initial access tokens for
dynamic client registration (RFC 7591 section 3) on an account whose policy is `token`."""

from __future__ import annotations

from typing import Any

import click

from tessera.cli.context import CliState, account_origin, emit_json, run
from tessera.management import accounts as account_rules
from tessera.management import registration_tokens as rules
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.shapes import timestamp
from tessera.storage.registrations import InitialToken
from tessera.storage.stores import Stores


def token_json(token: InitialToken, origin: str, full_token: str | None = None) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": token.id,
        "token": token.token_prefix,
        "registration_endpoint": origin + "/oauth/register",
        "created_by": token.created_by_name,
        "created_at": timestamp(token.created_at),
        "expires_at": timestamp(token.expires_at),
        "used_at": timestamp(token.used_at),
        "client_id": token.client_id,
    }
    if full_token is not None:
        shown["full_token"] = full_token
    return shown


@click.group("registration-tokens")
def registration_tokens() -> None:
    """Initial access tokens: each lets one app register itself (policy `token`)."""


@registration_tokens.command()
@click.option("--account", "subdomain", required=True)
@click.option(
    "--expires-in",
    type=int,
    default=rules.DEFAULT_EXPIRES_IN,
    show_default=True,
    help=f"Seconds the token may wait for its one use ({rules.MIN_EXPIRES_IN} to {rules.MAX_EXPIRES_IN}).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the token as JSON, the full token in full_token.")
@click.pass_obj
def create(state: CliState, subdomain: str, expires_in: int, as_json: bool) -> None:
    """Make an initial access token; it is printed this once."""
    settings = state.settings()

    async def action(stores: Stores) -> tuple[rules.CreatedInitialToken, str]:
        account = await account_rules.get(stores, subdomain)
        created = await rules.create(stores, account, SYSTEM_ACTOR, settings.clock(), expires_in)
        return created, account.registration_policy

    created, policy = run(settings, action)
    origin = account_origin(settings, subdomain)
    if as_json:
        emit_json("registration_token", token_json(created.token, origin, created.full_token))
        return
    click.echo(f"initial access token (shown only now): {created.full_token}")
    click.echo(f"it registers one client at {origin}/oauth/register before {timestamp(created.token.expires_at)}")
    if policy != "token":
        click.echo(
            f"note: registration on {subdomain!r} is {policy!r}; tokens are needed only with "
            f"'tessera accounts update {subdomain} --registration token'",
            err=True,
        )


@registration_tokens.command("list")
@click.option("--account", "subdomain", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_tokens(state: CliState, subdomain: str, as_json: bool) -> None:
    """The account's initial access tokens, newest first (first characters only)."""
    settings = state.settings()

    async def action(stores: Stores) -> list[InitialToken]:
        return await rules.list_tokens(stores, await account_rules.get(stores, subdomain))

    found = run(settings, action)
    origin = account_origin(settings, subdomain)
    if as_json:
        emit_json("registration_tokens", [token_json(token, origin) for token in found])
        return
    now = settings.clock()
    for token in found:
        state_ = "used" if token.used_at is not None else ("expired" if now >= token.expires_at else "unused")
        click.echo(f"{token.id}\t{token.token_prefix}...\t{state_}\texpires {timestamp(token.expires_at)}")


@registration_tokens.command()
@click.argument("token_id", type=int)
@click.option("--account", "subdomain", required=True)
@click.pass_obj
def revoke(state: CliState, token_id: int, subdomain: str) -> None:
    """Revoke (delete) an initial access token by its id."""
    settings = state.settings()

    async def action(stores: Stores) -> InitialToken:
        account = await account_rules.get(stores, subdomain)
        return await rules.revoke(stores, account, token_id, SYSTEM_ACTOR, settings.clock())

    token = run(settings, action)
    click.echo(f"revoked initial access token {token.id} ({token.token_prefix}...)")
