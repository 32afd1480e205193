"""`tessera clients create ...` (INTERFACE.md section 1)."""

from __future__ import annotations

import click

from tessera.cli.context import CliState, emit_json, fail, run
from tessera.management import accounts as account_rules
from tessera.management import clients as client_rules
from tessera.management.shapes import client_json
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, GRANT_TYPES, SIGNING_ALGS, Client
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin


@click.group()
def clients() -> None:
    """Manage OAuth clients."""


@clients.command()
@click.option("--account", "subdomain", default=None, help="The account's subdomain (omit with --global).")
@click.option("--name", required=True)
@click.option("--identifier", required=True, help="The OAuth client_id.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several.")
@click.option("--kind", type=click.Choice(CLIENT_KINDS), default="confidential", show_default=True)
@click.option(
    "--grant-type",
    "grant_types",
    type=click.Choice(GRANT_TYPES),
    multiple=True,
    help="Repeat for several (default: authorization_code and refresh_token).",
)
@click.option("--allowed-scope", "allowed_scopes", multiple=True, help="Repeat for several (default: any).")
@click.option("--access-token-lifetime", default=None, metavar="SECONDS|never")
@click.option("--refresh-token-lifetime", type=int, default=None, metavar="SECONDS")
@click.option("--access-token-format", type=click.Choice(ACCESS_TOKEN_FORMATS), default="opaque", show_default=True)
@click.option(
    "--signing-alg",
    type=click.Choice(SIGNING_ALGS),
    default="ES256",
    show_default=True,
    help="Signs the client's ID tokens and JWT access tokens.",
)
@click.option("--introspection", is_flag=True, help="A resource server: may introspect any token of its account.")
@click.option("--global", "is_global", is_flag=True, help="The client belongs to the platform, not to an account.")
@click.option("--owner", default=None, metavar="EMAIL", help="The user client_credentials tokens act as.")
@click.option("--description", default="")
@click.option("--company", default="")
@click.option("--logo-url", default="")
@click.option("--json", "as_json", is_flag=True, help="Print the client as JSON, secret included.")
@click.pass_obj
def create(state: CliState, /, subdomain: str | None, is_global: bool, as_json: bool, **options: object) -> None:
    """Register an OAuth client; a confidential client's secret is shown this once."""
    settings = state.settings()
    if is_global and subdomain:
        fail("a global client belongs to no account: omit --account with --global")
    if not is_global and not subdomain:
        fail("--account SUBDOMAIN is required (or --global for a platform client)")

    async def action(stores: Stores) -> tuple[Client, str | None]:
        account = None if is_global else await account_rules.get(stores, subdomain or "")
        spec = client_rules.ClientSpec(
            account=account,
            name=str(options["name"]),
            identifier=str(options["identifier"]),
            redirect_uris=tuple(options["redirect_uris"]),  # type: ignore[arg-type]
            kind=str(options["kind"]),
            grant_types=tuple(options["grant_types"]),  # type: ignore[arg-type]
            allowed_scopes=tuple(options["allowed_scopes"]),  # type: ignore[arg-type]
            access_token_lifetime=options["access_token_lifetime"],  # type: ignore[arg-type]
            refresh_token_lifetime=options["refresh_token_lifetime"],  # type: ignore[arg-type]
            access_token_format=str(options["access_token_format"]),
            signing_alg=str(options["signing_alg"]),
            introspection=bool(options["introspection"]),
            owner_email=options["owner"],  # type: ignore[arg-type]
            description=str(options["description"]),
            company=str(options["company"]),
            logo_url=str(options["logo_url"]),
        )
        return await client_rules.create(stores, spec, settings.clock())

    client, secret = run(settings, action)
    host = settings.base_domain if is_global else account_host(subdomain or "", settings.base_domain)
    if as_json:
        emit_json("client", client_json(client, origin(settings.scheme, host), secret=secret))
        return
    click.echo(f"created {client.kind} client {client.identifier!r} (id {client.id})")
    if secret:
        click.echo(f"client secret (shown only now): {secret}")
