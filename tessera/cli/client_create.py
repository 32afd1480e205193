"""`tessera clients create` (INTERFACE.md sections 1 and 6): register an OAuth client of an
account, or of the platform with --global, with every per-client option; and the reading of
a --jwks file that `clients update` shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, NoReturn

import click

from tessera.cli.context import CliState, emit_json, fail, run
from tessera.management import accounts as account_rules
from tessera.management import clients as client_rules
from tessera.management.shapes import client_json
from tessera.model import ACCESS_TOKEN_FORMATS, CLIENT_KINDS, GRANT_TYPES, SIGNING_ALGS, Client
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin

JWKS_HELP = (
    "A file holding the client's public JWK set (JSON); the client then authenticates with "
    "private_key_jwt (RFC 7523) and has no secret."
)


def jwks_text(source: IO[str] | None) -> str | None:
    """The key set file's text; the rules (client_rules.py) say what is wrong with it."""
    if source is None:
        return None
    try:
        text = source.read(client_rules.MAX_JWKS_READ)
    except UnicodeDecodeError:
        fail(f"--jwks {source.name}: not UTF-8 text; give a JSON JWK set file")
    if not text.strip():
        fail(f"--jwks {source.name}: the file is empty; give a JSON JWK set file")
    return text


def account_or_global(subdomain: str | None, is_global: bool, refuse: Callable[[str], NoReturn] = fail) -> str | None:
    """The account a client command is for, None for a global client (--global); `refuse`
    reports giving both or neither."""
    if is_global and subdomain:
        refuse("a global client belongs to no account: omit --account with --global")
    if not is_global and not subdomain:
        refuse("--account SUBDOMAIN is required (or --global for a platform client)")
    return subdomain


@click.command()
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
@click.option(
    "--require-par/--no-require-par",
    default=False,
    help="Authorization requests only through the PAR endpoint (RFC 9126).",
)
@click.option("--jwks", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE", help=JWKS_HELP)
@click.option(
    "--require-dpop/--no-require-dpop",
    "require_dpop",
    default=None,
    help="Issue tokens only with a DPoP proof, bound to the client's key (RFC 9449).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the client as JSON, secret included.")
@click.pass_obj
def create(state: CliState, /, subdomain: str | None, is_global: bool, as_json: bool, **options: object) -> None:
    """Register an OAuth client; a confidential client's secret is shown this once."""
    settings = state.settings()
    account_or_global(subdomain, is_global)
    jwks = jwks_text(options["jwks"])  # type: ignore[arg-type]

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
            require_par=bool(options["require_par"]),
            jwks=jwks,
            require_dpop=bool(options["require_dpop"]),
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
    if client.jwks:
        click.echo("authenticates with private_key_jwt (RFC 7523) using its registered key set; no secret")
