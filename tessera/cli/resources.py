"""`tessera resources create|list|delete` (INTERFACE.md section 8): the protected resources
an account's tokens may be for (RFC 8707), besides its own API. The commands act as the
system; the management layer records each change in the audit log."""

from __future__ import annotations

import click

from tessera.cli.context import CliState, account_origin, emit_json, run
from tessera.management import accounts as account_rules
from tessera.management import resources as resource_rules
from tessera.management.audit_events import SYSTEM_ACTOR
from tessera.management.paging import every
from tessera.management.shapes import resource_json
from tessera.model import Resource
from tessera.storage.stores import Stores

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON, wrapped as the API wraps it.")


@click.group()
def resources() -> None:
    """Manage the protected resources an account's tokens may be for."""


@resources.command()
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--uri", required=True, help="The resource's URI, as clients send it in `resource`.")
@click.option("--name", default="", help="A name for people (default: the URI's host).")
@click.option(
    "--scope", "scopes", multiple=True, help="A scope the resource allows; repeat for several (default: any)."
)
@_JSON
@click.pass_obj
def create(state: CliState, subdomain: str, uri: str, name: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Register a resource: clients may then ask for tokens with resource=URI."""
    settings = state.settings()

    async def action(stores: Stores) -> Resource:
        account = await account_rules.get(stores, subdomain)
        issuer = account_origin(settings, subdomain)
        spec = resource_rules.ResourceSpec(uri=uri, name=name, scopes=scopes)
        return await resource_rules.create(stores, account, issuer, spec, settings.clock(), SYSTEM_ACTOR)

    resource = run(settings, action)
    if as_json:
        emit_json("resource", resource_json(resource, account_origin(settings, subdomain)))
        return
    allowed = " ".join(resource.scopes) or "any scope"
    click.echo(f"created resource {resource.uri!r} (id {resource.id}), allowing {allowed}")


@resources.command("list")
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@_JSON
@click.pass_obj
def list_resources(state: CliState, subdomain: str, as_json: bool) -> None:
    """The account's registered resources (its own API is one without being listed)."""
    settings = state.settings()

    async def action(stores: Stores) -> list[Resource]:
        account = await account_rules.get(stores, subdomain)
        return await every(lambda after_id: resource_rules.list_for_account(stores, account, after_id=after_id))

    found = run(settings, action)
    if as_json:
        emit_json("resources", [resource_json(r, account_origin(settings, subdomain)) for r in found])
        return
    if not found:
        click.echo(f"no resources registered on account {subdomain!r} (its API is always one)")
    for r in found:
        click.echo(f"{r.id:>6}  {r.uri:<48}  {' '.join(r.scopes) or 'any scope':<24}  {r.name}")


@resources.command()
@click.option("--account", "subdomain", required=True, help="The account's subdomain.")
@click.option("--uri", required=True, help="The URI of the resource to delete.")
@_JSON
@click.pass_obj
def delete(state: CliState, subdomain: str, uri: str, as_json: bool) -> None:
    """Unregister a resource: no new token may be for it (issued ones run out as usual)."""
    settings = state.settings()

    async def action(stores: Stores) -> Resource:
        account = await account_rules.get(stores, subdomain)
        resource = await resource_rules.find_by_uri(stores, account, uri)
        return await resource_rules.delete(stores, account, resource.id, SYSTEM_ACTOR, settings.clock())

    resource = run(settings, action)
    if as_json:
        emit_json("resource", resource_json(resource, account_origin(settings, subdomain)))
        return
    click.echo(f"deleted resource {resource.uri!r} (id {resource.id}); no new tokens may be for it")
