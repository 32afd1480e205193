"""`tessera demo`: seed a demo account and serve it beside the sample apps.

The demo client's redirect URI is a loopback URI (RFC 8252 section 7.3) on which this
command also serves the sample web app (demo_samples.py), so that after "Allow" the browser
lands on a page that shows the code, the checks, the tokens and the API's answer. The same
server has the single-page app, for a public client seeded beside it, and the device-grant
command-line tool has a public client of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import uvicorn

from tessera import paths
from tessera.cli import demo_samples
from tessera.management import accounts as account_rules
from tessera.management import client_secrets
from tessera.management import clients as client_rules
from tessera.management import users as user_rules
from tessera.management.errors import NotFound
from tessera.model import Account
from tessera.settings import Settings
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin

SUBDOMAIN = "demo"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "tessera-demo"
CLIENT_ID = "demo-app"
SPA_CLIENT_ID = "demo-spa"
CLI_CLIENT_ID = "demo-cli"
CALLBACK_PORT = 8765
# Registered once with the default port; a loopback redirect URI's port may vary (RFC 8252
# section 7.3), so `tessera demo --samples-port` needs no other registration.
REDIRECT_URI = f"http://127.0.0.1:{CALLBACK_PORT}/callback"
SPA_REDIRECT_URI = f"http://127.0.0.1:{CALLBACK_PORT}/spa/"


@dataclass(frozen=True)
class Seeded:
    secret: str


async def seed(stores: Stores, settings: Settings) -> Seeded:
    now = settings.clock()
    try:
        account = await account_rules.get(stores, SUBDOMAIN)
    except NotFound:
        account = await account_rules.create(stores, SUBDOMAIN, "Demo Company", now)
    if await stores.users.find_by_email(account.id, ADMIN_EMAIL) is None:
        await user_rules.create(stores, account, ADMIN_EMAIL, ADMIN_PASSWORD, "admin", "Demo Admin", now)
    client = await stores.clients.find(account.id, CLIENT_ID)
    if client is None:
        spec = client_rules.ClientSpec(
            account=account,
            name="Demo App",
            identifier=CLIENT_ID,
            company="Tessera",
            description="A sample application to try the authorization code flow with PKCE.",
            redirect_uris=(REDIRECT_URI,),
            grant_types=("authorization_code", "refresh_token", "client_credentials"),
        )
        _client, secret = await client_rules.create(stores, spec, now)
    else:
        # The secret is stored only as a hash: show a fresh one on every demo start.
        _client, secret = await client_secrets.regenerate_any(stores, client, now)
    assert secret is not None
    for spec in _public_clients(account):
        if await stores.clients.find(account.id, spec.identifier) is None:
            await client_rules.create(stores, spec, now)
    return Seeded(secret=secret)


def _public_clients(account: Account) -> tuple[client_rules.ClientSpec, ...]:
    """The single-page app's client and the command-line tool's: public, no secret."""
    spa = client_rules.ClientSpec(
        account=account,
        name="Demo Single-Page App",
        identifier=SPA_CLIENT_ID,
        kind="public",
        company="Tessera",
        description="A sample single-page app: plain JavaScript, PKCE, the token kept in memory.",
        redirect_uris=(SPA_REDIRECT_URI,),
        grant_types=("authorization_code",),
    )
    cli = client_rules.ClientSpec(
        account=account,
        name="Demo CLI",
        identifier=CLI_CLIENT_ID,
        kind="public",
        company="Tessera",
        description="A sample command-line tool that signs in with the device grant.",
        grant_types=("device_code", "refresh_token"),
    )
    return spa, cli


def _issuer(settings: Settings, port: int) -> str:
    return origin(settings.scheme, account_host(SUBDOMAIN, settings.base_domain, port))


def samples_origin(samples_port: int) -> str:
    return f"http://127.0.0.1:{samples_port}"


def instructions(settings: Settings, seeded: Seeded, port: int, samples_port: int, samples: bool) -> str:
    issuer = _issuer(settings, port)
    apps = samples_origin(samples_port)
    if samples:
        try_it = f"""1. The sample web app: open {apps}/ and click "Sign in with Tessera".
   Sign in, click Allow, and the app (the client {CLIENT_ID}, whose callback is
   {apps}/callback) shows the code, state, iss, the tokens and the API's answer,
   and lets you refresh, call the API again and revoke.

2. The single-page app (public client {SPA_CLIENT_ID}, PKCE in the browser): {apps}/spa/

3. The command-line tool (public client {CLI_CLIENT_ID}, device grant), in another terminal:

   .venv/bin/python examples/device_login.py {issuer} --client-id {CLI_CLIENT_ID} --scope "openid read"
"""
    else:
        try_it = """The sample apps (a web app as the demo's callback, a single-page app) come with a clone
of the Tessera repository, in its examples/ folder, and need its development dependencies:
run `make demo` there to have them served too.
"""
    return f"""
Tessera demo
============
Account       {issuer}   (account "{SUBDOMAIN}")
Sign in as    {ADMIN_EMAIL}  /  {ADMIN_PASSWORD}
Client        client_id {CLIENT_ID}   client_secret {seeded.secret}
Redirect URI  {apps}/callback
Admin console {issuer}{paths.ADMIN}   (clients, external apps, users, resources, tokens, registration, audit log)

{try_it}
Call the API with an access token:

   curl -s -H "Authorization: Bearer ACCESS_TOKEN" {issuer}{paths.API_USERS_ME}

A token without a browser (client_credentials):

   curl -s -u {CLIENT_ID}:{seeded.secret} -d grant_type=client_credentials -d scope=read {issuer}{paths.TOKEN}

Press Ctrl+C to stop.
"""


def sample_apps(settings: Settings, seeded: Seeded, port: int, samples_port: int) -> Any | None:
    """The sample web app (with the single-page app), or None without examples/."""
    return demo_samples.web_app(
        _issuer(settings, port), CLIENT_ID, seeded.secret, f"{samples_origin(samples_port)}/callback", SPA_CLIENT_ID
    )


async def serve_with_samples(config: dict[str, Any], samples: Any | None, samples_port: int) -> None:
    main = uvicorn.Server(uvicorn.Config("tessera.asgi:app", **{k: v for k, v in config.items() if k != "workers"}))
    if samples is None:
        await main.serve()
        return
    beside = uvicorn.Server(
        uvicorn.Config(samples, host="127.0.0.1", port=samples_port, log_level="warning", lifespan="off")
    )
    await asyncio.gather(main.serve(), beside.serve())
