"""The OAuth side of the sample: what any server-side app does, with Authlib.

Everything here talks to Tessera server to server: the browser only ever sees the
authorization URL and, on its way back, the code. Tokens stay on this side.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = ["ApiAnswer", "Login", "OAuthError", "Settings", "Tessera"]


@dataclass(frozen=True)
class Settings:
    issuer: str  # the account's address, e.g. http://demo.localhost:8000
    client_id: str
    client_secret: str
    redirect_uri: str  # where Tessera sends the browser back: this app's /callback
    scope: str = "openid profile email read"
    api_path: str = "/api/v2/users/me"


@dataclass(frozen=True)
class Login:
    """One authorization request: the secrets the app keeps until the browser comes back."""

    url: str
    state: str  # random: proves that the answer belongs to a request this app made
    code_verifier: str  # PKCE (RFC 7636): only its SHA-256 travelled through the browser
    nonce: str  # OpenID Connect: comes back inside the ID token, tying it to this request
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiAnswer:
    url: str
    status: int
    body: Any
    www_authenticate: str = ""


async def _loopback(request: Any) -> None:
    """`*.localhost` names this machine (RFC 6761). Browsers and curl know it, Python's
    resolver often does not: connect to 127.0.0.1 and keep the name in the Host header,
    which is how Tessera tells its accounts apart."""
    if request.url.host.endswith(".localhost"):
        request.url = request.url.copy_with(host="127.0.0.1")


class Tessera:
    """One Tessera account, as seen by one confidential client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def _client(self, **options: Any) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            redirect_uri=self.settings.redirect_uri,
            scope=self.settings.scope,
            code_challenge_method="S256",
            event_hooks={"request": [_loopback]},
            timeout=10,
            **options,
        )

    async def metadata(self) -> dict[str, Any]:
        """The endpoints come from the account's OpenID Connect discovery document."""
        if self._metadata is None:
            async with self._client() as http:
                answer = await http.request(
                    "GET", self.settings.issuer + "/.well-known/openid-configuration", withhold_token=True
                )
                answer.raise_for_status()
                self._metadata = answer.json()
        return self._metadata

    async def start_login(self) -> Login:
        endpoint = (await self.metadata())["authorization_endpoint"]
        state, verifier, nonce = secrets.token_urlsafe(16), generate_token(64), secrets.token_urlsafe(16)
        async with self._client() as client:
            url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier, nonce=nonce)
        parameters = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": self.settings.scope,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "nonce": nonce,
        }
        return Login(url=url, state=state, code_verifier=verifier, nonce=nonce, parameters=parameters)

    async def exchange(self, code: str, login: Login) -> dict[str, Any]:
        """The code and the PKCE verifier for tokens; the client secret goes in HTTP Basic."""
        endpoint = (await self.metadata())["token_endpoint"]
        async with self._client() as client:
            token = await client.fetch_token(endpoint, code=code, code_verifier=login.code_verifier)
        return dict(token)

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        endpoint = (await self.metadata())["token_endpoint"]
        async with self._client() as client:
            token = await client.refresh_token(endpoint, refresh_token=refresh_token)
        return dict(token)

    async def revoke(self, refresh_token: str) -> int:
        """RFC 7009. Revoking the refresh token ends its whole family, access tokens included."""
        endpoint = (await self.metadata())["revocation_endpoint"]
        async with self._client() as client:
            answer = await client.revoke_token(endpoint, token=refresh_token, token_type_hint="refresh_token")
        return int(answer.status_code)

    async def call_api(self, access_token: str) -> ApiAnswer:
        url = self.settings.issuer + self.settings.api_path
        async with self._client(token={"access_token": access_token, "token_type": "Bearer"}) as client:
            answer = await client.get(url)
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text
        return ApiAnswer(url, answer.status_code, body, answer.headers.get("www-authenticate", ""))

    async def id_token_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        """Checks the ID token's signature with the account's keys, then its claims: from this
        issuer, for this client, not expired, and carrying the nonce of this login."""
        metadata = await self.metadata()
        if self._keys is None:
            async with self._client() as http:
                answer = await http.request("GET", metadata["jwks_uri"], withhold_token=True)
                answer.raise_for_status()
                self._keys = KeySet.import_key_set(answer.json())
        try:
            token = jwt.decode(id_token, self._keys, algorithms=metadata["id_token_signing_alg_values_supported"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as problem:
            raise OAuthError("invalid_id_token", f"the ID token did not pass the checks: {problem}") from problem
        return dict(token.claims)
