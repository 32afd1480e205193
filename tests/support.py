"""Test helpers: a controllable clock, a seeded account (World), and browser-like steps
(reading forms out of pages, signing in, consenting) for in-process HTTP tests.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tessera import passwords
from tessera.management import accounts, clients, users
from tessera.model import Account, Client, User
from tessera.protocol import secrets as token_secrets
from tessera.protocol.ports import NewAccessToken, NewCode, NewRefreshToken, TokenRows
from tessera.storage.stores import Stores

PASSWORD = "correct horse battery"
_counter = itertools.count()


class Clock:
    """Real time plus an offset the test controls; handed to the app through Settings."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class RegisteredClient:
    client: Client
    secret: str | None

    @property
    def client_id(self) -> str:
        return self.client.identifier

    @property
    def redirect_uri(self) -> str:
        return self.client.redirect_uris[0]

    def basic(self) -> tuple[str, str]:
        assert self.secret is not None
        return (self.client.identifier, self.secret)


@dataclass
class World:
    """One account with an admin, an end user and clients of every kind."""

    account: Account
    admin: User
    user: User
    web: RegisteredClient  # confidential: authorization_code + refresh_token
    spa: RegisteredClient  # public: authorization_code, PKCE required
    machine: RegisteredClient  # confidential: client_credentials only
    legacy: RegisteredClient  # confidential: password + implicit + authorization_code, non-expiring tokens
    extra: dict[str, RegisteredClient] = field(default_factory=dict)

    @property
    def subdomain(self) -> str:
        return self.account.subdomain

    @property
    def origin(self) -> str:
        return f"http://{self.account.subdomain}.localhost"


async def add_client(stores: Stores, account: Account | None, now: float, **spec: object) -> RegisteredClient:
    identifier = str(spec.pop("identifier", f"client-{next(_counter)}-{secrets.token_hex(3)}"))
    name = str(spec.pop("name", identifier.title()))
    client, secret = await clients.create(
        stores,
        clients.ClientSpec(account=account, identifier=identifier, name=name, **spec),
        now,  # type: ignore[arg-type]
    )
    return RegisteredClient(client, secret)


_HASHED: dict[str, str] = {}


@contextlib.contextmanager
def _password_hashed_once() -> Iterator[None]:
    """Every World's users have PASSWORD. argon2id costs 20-50 ms of CPU a hash, by design
    (passwords.py), and two per test were about half of what an HTTP test's setup cost: hash
    PASSWORD once per test process and hand that hash to every World's users. Only while a
    World is made; any other password, and every hash a test makes, is hashed as usual."""
    real = passwords.hash_password

    def once(password: str, context: Iterable[str] = ()) -> str:
        if password != PASSWORD:
            return real(password, context)
        if password not in _HASHED:
            _HASHED[password] = real(password, context)
        return _HASHED[password]

    passwords.hash_password = once
    try:
        yield
    finally:
        passwords.hash_password = real


async def make_world(stores: Stores, clock: Clock) -> World:
    now = clock()
    subdomain = f"t{next(_counter)}x{secrets.token_hex(3)}"
    account = await accounts.create(stores, subdomain, f"Account {subdomain}", now)
    with _password_hashed_once():
        admin = await users.create(stores, account, "admin@example.com", PASSWORD, "admin", "Ada Admin", now)
        user = await users.create(stores, account, "user@example.com", PASSWORD, "end-user", "Eve User", now)
    web = await add_client(
        stores,
        account,
        now,
        identifier=f"web-{subdomain}",
        name="Web App",
        company="Example Inc",
        redirect_uris=("https://app.example.com/callback", "http://127.0.0.1/callback"),
    )
    spa = await add_client(
        stores,
        account,
        now,
        identifier=f"spa-{subdomain}",
        name="Single Page App",
        kind="public",
        redirect_uris=("http://127.0.0.1/callback",),
    )
    machine = await add_client(
        stores,
        account,
        now,
        identifier=f"machine-{subdomain}",
        name="Machine",
        grant_types=("client_credentials",),
    )
    legacy = await add_client(
        stores,
        account,
        now,
        identifier=f"legacy-{subdomain}",
        name="Legacy",
        grant_types=("authorization_code", "implicit", "password"),
        redirect_uris=("https://legacy.example.com/cb",),
        access_token_lifetime="never",
    )
    return World(account=account, admin=admin, user=user, web=web, spa=spa, machine=machine, legacy=legacy)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    buttons: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {}, {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons[a["name"]] = a.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def fragment_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment, keep_blank_values=True).items()}


async def sign_in(
    http: httpx.AsyncClient, email: str, password: str = PASSWORD, return_to: str = "/"
) -> httpx.Response:
    """Fill the real login form; the client keeps the session cookie."""
    page = await http.get("/access/login", params={"return_to": return_to})
    form = forms(page.text)[-1]
    data = dict(form.fields, email=email, password=password)
    return await http.post("/access/login", data=data)


def authorize_url(client: RegisteredClient, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": "read",
    }
    query.update(params)
    return "/oauth/authorizations/new?" + urlencode(query)


async def consent(http: httpx.AsyncClient, page: httpx.Response, decision: str = "allow") -> httpx.Response:
    """Submit the consent form shown in `page`."""
    form = next(f for f in forms(page.text) if f.action == "/oauth/authorizations")
    return await http.post(form.action, data=dict(form.fields, decision=decision))


async def obtain_code(http: httpx.AsyncClient, client: RegisteredClient, email: str, **params: str) -> dict[str, str]:
    """Sign in, authorize and consent; return the parameters of the redirect to the client."""
    await sign_in(http, email)
    page = await http.get(authorize_url(client, **params))
    if page.status_code == 200:
        page = await consent(http, page)
    assert page.status_code in (302, 303), page.text
    location = page.headers["location"]
    return fragment_of(location) if "#" in location else query_of(location)


async def token_request(http: httpx.AsyncClient, client: RegisteredClient, data: dict[str, str]) -> httpx.Response:
    """A token endpoint request as the client authenticates (RFC 6749 section 2.3.1): with
    its secret over HTTP Basic, or, a public client, with its client_id in the body."""
    if client.secret is None:
        return await http.post("/oauth/tokens", data={**data, "client_id": client.client_id})
    return await http.post("/oauth/tokens", auth=client.basic(), data=data)


async def code_and_tokens(
    http: httpx.AsyncClient, client: RegisteredClient, email: str, scope: str = "read", **token_params: str
) -> tuple[str, dict[str, Any]]:
    """The authorization code flow with PKCE (RFC 7636) signed in as `email`, then the code
    exchanged at the token endpoint: the code, and the token response."""
    verifier, challenge = pkce_pair()
    code = await obtain_code(http, client, email, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
        **token_params,
    }
    response = await token_request(http, client, data)
    assert response.status_code == 200, response.text
    return code["code"], response.json()


async def code_tokens(
    http: httpx.AsyncClient, client: RegisteredClient, email: str, scope: str = "read", **token_params: str
) -> dict[str, Any]:
    """The token response of the authorization code flow (code_and_tokens)."""
    return (await code_and_tokens(http, client, email, scope, **token_params))[1]


def new_code(
    account_id: int, client_id: int, user_id: int, created_at: float, expires_at: float, *, family: str, nonce: str = ""
) -> NewCode:
    """An authorization code's row (scope read, no redirect URI or PKCE challenge) with a
    fresh random digest."""
    return NewCode(
        digest=token_secrets.digest(token_secrets.new_secret("tsc_")),
        account_id=account_id,
        client_id=client_id,
        user_id=user_id,
        redirect_uri="",
        scopes=("read",),
        code_challenge="",
        nonce=nonce,
        family=family,
        auth_time=created_at,
        created_at=created_at,
        expires_at=expires_at,
    )


def token_rows(world: World, now: float, *, family: str, refresh: bool = True) -> TokenRows:
    """The rows of a token the web client holds for the world's end user (scope read),
    with a refresh token unless `refresh` is False."""
    token = token_secrets.new_secret(token_secrets.ACCESS_TOKEN_PREFIX)
    access = NewAccessToken(
        digest=token_secrets.digest(token),
        token_prefix=token[:10],
        account_id=world.account.id,
        client_id=world.web.client.id,
        user_id=world.user.id,
        scopes=("read",),
        family=family,
        created_at=now,
        expires_at=now + 1800,
    )
    new_refresh = (
        NewRefreshToken(token_secrets.digest(token_secrets.new_secret("tsr_")), now + 86400) if refresh else None
    )
    return TokenRows(access=access, refresh=new_refresh)


def secrets_in(text: str, prefix: str, length: int) -> list[str]:
    """Every secret `prefix` + `length` base64url characters in `text` (a CLI's output),
    whole: not part of a longer run of such characters. Not with \\b: a secret that ends
    in "-" (one in 64) has no word boundary after it."""
    return re.findall(rf"(?<![A-Za-z0-9_-]){re.escape(prefix)}[A-Za-z0-9_-]{{{length}}}(?![A-Za-z0-9_-])", text)


def count_routed(app: Any) -> list[str]:
    """The paths of the requests that reach `app`'s Starlette router from now on (the ones
    web/fixed_paths.py does not serve itself)."""
    routed: list[str] = []
    inner = app.router.middleware_stack

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["path"])
        await inner(scope, receive, send)

    app.router.middleware_stack = counting
    return routed


def unisolated(html: str) -> str:
    """A page's markup without the <bdi> elements that isolate names inside sentences
    (web/pages.py), for tests about the words rather than their direction."""
    return html.replace("<bdi>", "").replace("</bdi>", "")
