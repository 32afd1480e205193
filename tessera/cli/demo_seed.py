"""`tessera demo`: seed a demo account and serve it beside a small callback page.

The demo client's redirect URI is a loopback URI (RFC 8252 section 7.3) on which this
command also listens, so that after "Allow" the browser lands on a page that shows the
code and the exact curl command that exchanges it.
"""

from __future__ import annotations

import asyncio
import html
import secrets as random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tessera import paths
from tessera.management import accounts as account_rules
from tessera.management import clients as client_rules
from tessera.management import users as user_rules
from tessera.management.errors import NotFound
from tessera.protocol import pkce
from tessera.settings import Settings
from tessera.storage.stores import Stores
from tessera.urls import account_host, origin

SUBDOMAIN = "demo"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "tessera-demo"
CLIENT_ID = "demo-app"
CALLBACK_PORT = 8765
REDIRECT_URI = f"http://127.0.0.1:{CALLBACK_PORT}/callback"


@dataclass(frozen=True)
class Seeded:
    secret: str
    verifier: str
    state: str


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
        _client, secret = await client_rules.regenerate_any(stores, client, now)
    assert secret is not None
    return Seeded(secret=secret, verifier=random.token_urlsafe(48), state=random.token_urlsafe(12))


def _issuer(settings: Settings, port: int) -> str:
    return origin(settings.scheme, account_host(SUBDOMAIN, settings.base_domain, port))


def authorization_url(settings: Settings, seeded: Seeded, port: int) -> str:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "read write",
            "state": seeded.state,
            "code_challenge": pkce.s256(seeded.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{_issuer(settings, port)}{paths.AUTHORIZE}?{query}"


def exchange_command(settings: Settings, seeded: Seeded, port: int, code: str) -> str:
    return (
        f"curl -s -u {CLIENT_ID}:{seeded.secret} {_issuer(settings, port)}{paths.TOKEN} \\\n"
        f"  -d grant_type=authorization_code -d code={code} \\\n"
        f"  -d redirect_uri={REDIRECT_URI} -d code_verifier={seeded.verifier}"
    )


def instructions(settings: Settings, seeded: Seeded, port: int) -> str:
    issuer = _issuer(settings, port)
    return f"""
Tessera demo
============
Account       {issuer}   (account "{SUBDOMAIN}")
Sign in as    {ADMIN_EMAIL}  /  {ADMIN_PASSWORD}
Client        client_id {CLIENT_ID}   client_secret {seeded.secret}
Redirect URI  {REDIRECT_URI}
Admin console {issuer}{paths.ADMIN}   (clients, external apps, users, resources, tokens, registration, audit log)

1. Open this URL in a browser, sign in, and click Allow:

   {authorization_url(settings, seeded, port)}

2. The browser lands on {REDIRECT_URI}, which shows the code and this command:

   {exchange_command(settings, seeded, port, "CODE")}

3. Call the API with the access token:

   curl -s -H "Authorization: Bearer ACCESS_TOKEN" {issuer}{paths.API_USERS_ME}

A token without a browser (client_credentials):

   curl -s -u {CLIENT_ID}:{seeded.secret} -d grant_type=client_credentials -d scope=read {issuer}{paths.TOKEN}

Press Ctrl+C to stop.
"""


def callback_app(settings: Settings, seeded: Seeded, port: int) -> Starlette:
    async def callback(request: Request) -> HTMLResponse:
        params = request.query_params
        if "error" in params:
            body = f"<h1>Authorization failed</h1><p><code>{html.escape(params['error'])}</code>: {html.escape(params.get('error_description', ''))}</p>"
        else:
            code = params.get("code", "")
            state_ok = "matches" if params.get("state") == seeded.state else "DOES NOT MATCH"
            body = (
                "<h1>Authorization code received</h1>"
                f"<p>state {state_ok}; issuer (iss) <code>{html.escape(params.get('iss', ''))}</code></p>"
                f"<p>Exchange it within {settings.authorization_code_lifetime} seconds:</p>"
                f"<pre>{html.escape(exchange_command(settings, seeded, port, code))}</pre>"
            )
        page = f"<!doctype html><meta charset=utf-8><title>Demo callback</title><body style='font-family:sans-serif;max-width:760px;margin:40px auto'>{body}</body>"
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    return Starlette(routes=[Route("/callback", callback)])


async def serve_with_callback(host: str, port: int, seeded: Seeded, settings: Settings, config: dict[str, Any]) -> None:
    main = uvicorn.Server(uvicorn.Config("tessera.asgi:app", **{k: v for k, v in config.items() if k != "workers"}))
    catcher = uvicorn.Server(
        uvicorn.Config(
            callback_app(settings, seeded, port),
            host="127.0.0.1",
            port=CALLBACK_PORT,
            log_level="warning",
            lifespan="off",
        )
    )
    await asyncio.gather(main.serve(), catcher.serve())
