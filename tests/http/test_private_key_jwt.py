"""private_key_jwt over HTTP: RFC 7523 sections 2.2 and 3, RFC 7521 section 4.2, OIDC Core
section 9, INTERFACE.md section 10. Every refusal is invalid_client 401 naming the problem,
and counts toward the failed client authentication throttle (INTERFACE.md section 9)."""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tessera.storage.stores import Stores
from tests.http.admin_support import audit_text, bearer
from tests.support import Clock, RegisteredClient, World, add_client, obtain_code, pkce_pair

pytestmark = pytest.mark.anyio

TOKEN = "/oauth/tokens"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DESCRIPTION = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]+$")

KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"})
RSA = RSAKey.generate_key(2048, parameters={"kid": "r1"})
STRANGER = ECKey.generate_key("P-256", parameters={"kid": "k1"})  # the same kid, never registered


def jwks(*keys: Any) -> str:
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys or (KEY, RSA)]})


@pytest.fixture
async def keyed(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    """A confidential client with a registered key set, allowed client_credentials and the code grant."""
    return await add_client(
        stores,
        world.account,
        clock(),
        grant_types=("client_credentials", "authorization_code", "refresh_token"),
        redirect_uris=("https://app.example.com/callback",),
        jwks=jwks(),
    )


def claims(world: World, client: RegisteredClient, now: float, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": world.origin,
        "iat": int(now),
        "exp": int(now) + 60,
        "jti": secrets.token_urlsafe(16),
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def sign(payload: dict[str, Any], key: Any = KEY, alg: str = "ES256", kid: str | None = "k1") -> str:
    header = {"alg": alg, **({"kid": kid} if kid else {})}
    return jwt.encode(header, payload, key, algorithms=[alg])


def assertion_body(assertion: str, **params: str) -> dict[str, str]:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion, **params}


def invalid_client(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "invalid_client", body
    assert DESCRIPTION.match(body["error_description"]), body
    assert "www-authenticate" not in response.headers  # no Basic was used
    return str(body["error_description"])


async def client_credentials(http: httpx.AsyncClient, assertion: str) -> httpx.Response:
    return await http.post(TOKEN, data=assertion_body(assertion, grant_type="client_credentials", scope="read"))


# --- success -------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["issuer", "token_endpoint", "array"])
async def test_client_credentials_with_an_assertion(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock, audience: str
) -> None:
    """RFC 7523 section 2.2; the aud: the issuer (FAPI 2.0), the token endpoint URL (RFC 7523
    section 3 item 3), or an array of them (one naming another server too is refused:
    tests/unit/test_client_assertion.py)."""
    aud: Any = {
        "issuer": world.origin,
        "token_endpoint": world.origin + TOKEN,
        "array": [world.origin, world.origin + TOKEN],
    }[audience]
    response = await client_credentials(http, sign(claims(world, keyed, clock(), aud=aud)))
    assert response.status_code == 200, response.text
    assert response.json()["token_type"].lower() == "bearer"


async def test_rsa_key_without_a_kid(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """No kid: each registered key is tried (PS256 with the RSA key)."""
    response = await client_credentials(http, sign(claims(world, keyed, clock()), RSA, "PS256", kid=None))
    assert response.status_code == 200, response.text


async def test_authorization_code_with_an_assertion(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """RFC 6749 section 4.1.3 with the client authenticated by RFC 7523 section 2.2; the
    client_id parameter, when sent, names the same client (RFC 7521 section 4.2)."""
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        http, keyed, world.user.email, scope="read", code_challenge=challenge, code_challenge_method="S256"
    )
    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": keyed.redirect_uri,
        "code_verifier": verifier,
        "client_id": keyed.client_id,
    }
    response = await http.post(TOKEN, data=assertion_body(sign(claims(world, keyed, clock())), **data))
    assert response.status_code == 200, response.text
    assert "refresh_token" in response.json()


async def test_revocation_and_introspection_with_assertions(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """RFC 7009 section 2.1 and RFC 7662 section 2.1 authenticate the client as the token
    endpoint does; each endpoint also accepts its own URL as aud (RFC 9126 section 2's rule)."""
    token = (await client_credentials(http, sign(claims(world, keyed, clock())))).json()["access_token"]
    introspected = await http.post(
        "/oauth/introspect",
        data=assertion_body(sign(claims(world, keyed, clock(), aud=world.origin + "/oauth/introspect")), token=token),
    )
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    revoked = await http.post("/oauth/revoke", data=assertion_body(sign(claims(world, keyed, clock())), token=token))
    assert revoked.status_code == 200, revoked.text
    again = await http.post("/oauth/introspect", data=assertion_body(sign(claims(world, keyed, clock())), token=token))
    assert again.json() == {"active": False}


# --- refusals --------------------------------------------------------------------------------

Refusal = Callable[[World, RegisteredClient, float], str]

REFUSALS: dict[str, tuple[Refusal, str]] = {
    # RFC 7523 section 3 item 4: expired, and "unreasonably far in the future".
    "expired": (lambda w, c, now: sign(claims(w, c, now, iat=int(now) - 600, exp=int(now) - 300)), "expired"),
    "exp too far": (lambda w, c, now: sign(claims(w, c, now, exp=int(now) + 86_400)), "at most 3600 seconds"),
    "no exp": (lambda w, c, now: sign(claims(w, c, now, exp=None)), "must carry exp"),
    # Item 3: the server's own identity; the description names what is accepted.
    "wrong aud": (lambda w, c, now: sign(claims(w, c, now, aud="https://evil.example")), "does not name this server"),
    # Items 1 and 2.B: iss and sub are the client_id.
    "wrong iss": (lambda w, c, now: sign(claims(w, c, now, iss="someone-else")), "iss must be the client_id"),
    "wrong sub": (
        lambda w, c, now: sign({**claims(w, c, now), "sub": c.client_id, "iss": c.client_id + "x"}),
        "iss must be the client_id",
    ),
    "unknown kid": (lambda w, c, now: sign(claims(w, c, now), kid="k9"), "not among client"),
    "wrong key": (lambda w, c, now: sign(claims(w, c, now), STRANGER), "does not verify"),
    "alg none": (
        lambda w, c, now: (
            ".".join(
                base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                for part in ({"alg": "none"}, claims(w, c, now))
            )
            + "."
        ),
        "alg 'none' is not accepted",
    ),
    # RFC 8725 section 2.1: the public key used as an HMAC secret.
    "HS256 with the key as secret": (
        lambda w, c, now: sign(claims(w, c, now), OctKey.import_key(jwks().encode()), "HS256"),
        "alg 'HS256' is not accepted",
    ),
    # OIDC Core section 9: jti REQUIRED.
    "missing jti": (lambda w, c, now: sign(claims(w, c, now, jti=None)), "must carry jti"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refused_assertions(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock, case: str
) -> None:
    build, expected = REFUSALS[case]
    description = invalid_client(await client_credentials(http, build(world, keyed, clock())))
    assert expected in description, description


async def test_wrong_aud_names_the_accepted_audiences(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    description = invalid_client(
        await client_credentials(http, sign(claims(world, keyed, clock(), aud=world.origin + "/oauth/revoke")))
    )
    assert world.origin in description and world.origin + TOKEN in description


async def test_an_assertion_is_used_once(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """RFC 7523 section 3 item 7 and OIDC Core section 9: a replayed jti is refused."""
    assertion = sign(claims(world, keyed, clock()))
    assert (await client_credentials(http, assertion)).status_code == 200
    assert "already used" in invalid_client(await client_credentials(http, assertion))


async def test_an_expired_assertion_after_time_passes(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    assertion = sign(claims(world, keyed, clock()))
    clock.advance(300)
    assert "expired" in invalid_client(await client_credentials(http, assertion))


async def test_a_client_with_keys_cannot_use_a_secret(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """A registered key set makes private_key_jwt the client's only method: registering one
    retires the secret (docs/clients.md)."""
    admin = await bearer(stores, world, world.admin, "read write", clock)
    url = f"/api/v2/oauth/clients/{world.machine.client.id}.json"
    changed = await http.put(url, headers=admin, json={"client": {"jwks": json.loads(jwks())}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["client"]["jwks"]["keys"][0]["kid"] == "k1"
    assert changed.json()["client"]["secret"] is None
    response = await http.post(TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert "authenticates with private_key_jwt" in response.json()["error_description"]
    assert response.headers["www-authenticate"].startswith("Basic")  # Basic was used (RFC 6749 5.2)
    assert "client secret no longer works" in await audit_text(stores, world)
    regenerate = await http.put(url.replace(".json", "/generate_secret.json"), headers=admin)
    assert regenerate.status_code == 422 and "jwks" in regenerate.json()["details"]


async def test_a_client_without_keys_cannot_use_an_assertion(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    description = invalid_client(await client_credentials(http, sign(claims(world, world.machine, clock()))))
    assert "no registered public keys" in description


async def test_an_assertion_and_a_secret_together(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """RFC 6749 section 2.3: one authentication method per request."""
    data = assertion_body(sign(claims(world, keyed, clock())), grant_type="client_credentials", client_secret="x")
    response = await http.post(TOKEN, data=data)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_failed_assertions_count_toward_the_throttle(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """INTERFACE.md section 9: failed client authentication is throttled per client (10)."""
    statuses = []
    for _ in range(12):
        response = await client_credentials(http, sign(claims(world, keyed, clock(), aud="https://evil.example")))
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429


# --- registering keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"keys": [KEY.as_dict(private=True)]}, "private key members (d)"),
        ({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "symmetric"),
        ({"keys": []}, "at least one public key"),
        ({"keys": [KEY.as_dict(private=False)] * 11}, "at most 10 keys"),
    ],
)
async def test_the_api_refuses_bad_key_sets(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock, keys: Any, expected: str
) -> None:
    admin = await bearer(stores, world, world.admin, "read write", clock)
    body = {"client": {"name": "Keyed", "identifier": "keyed_app", "grant_types": ["client_credentials"], "jwks": keys}}
    response = await http.post("/api/v2/oauth/clients.json", headers=admin, json=body)
    assert response.status_code == 422, response.text
    assert expected in json.dumps(response.json()["details"]["jwks"])


async def test_the_api_creates_a_keyed_client_without_a_secret(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    admin = await bearer(stores, world, world.admin, "read write", clock)
    body = {"client": {"name": "Keyed", "identifier": "keyed_app", "grant_types": ["client_credentials"]}}
    body["client"]["jwks"] = json.loads(jwks(KEY))  # type: ignore[assignment]
    response = await http.post("/api/v2/oauth/clients.json", headers=admin, json=body)
    assert response.status_code == 201, response.text
    created = response.json()["client"]
    assert created["secret"] is None and created["kind"] == "confidential"
    assert created["jwks"] == json.loads(jwks(KEY))
    keyed = RegisteredClient(await stores.clients.find(world.account.id, "keyed_app"), None)  # type: ignore[arg-type]
    assert (await client_credentials(http, sign(claims(world, keyed, clock())))).status_code == 200


async def test_the_device_authorization_endpoint_accepts_an_assertion(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """RFC 8628 section 3.1: the client authenticates as at the token endpoint, so with an
    assertion too; aud may be that endpoint's URL."""
    device = await add_client(stores, world.account, clock(), grant_types=("device_code",), jwks=jwks())
    aud = world.origin + "/oauth/device/code"
    data = assertion_body(sign(claims(world, device, clock(), aud=aud)), scope="read")
    response = await http.post("/oauth/device/code", data=data)
    assert response.status_code == 200, response.text
    assert "device_code" in response.json()


async def test_the_par_endpoint_accepts_an_assertion(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock
) -> None:
    """RFC 9126 section 2: the PAR endpoint authenticates clients as the token endpoint does,
    so with an assertion too (RFC 7523 section 3: aud may be that endpoint's URL); a replayed
    assertion is refused there as well."""
    assertion = sign(claims(world, keyed, clock(), aud=world.origin + "/oauth/par"))
    request = {
        "response_type": "code",
        "client_id": keyed.client_id,
        "redirect_uri": "https://app.example.com/callback",
        "scope": "read",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    pushed = await http.post("/oauth/par", data=assertion_body(assertion, **request))
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert "was already used" in invalid_client(
        await http.post("/oauth/par", data=assertion_body(assertion, **request))
    )


@pytest.mark.parametrize("endpoint", [TOKEN, "/oauth/par", "/oauth/introspect", "/oauth/revoke"])
async def test_an_assertion_that_is_not_json_is_invalid_client_everywhere(
    http: httpx.AsyncClient, world: World, keyed: RegisteredClient, clock: Clock, endpoint: str
) -> None:
    """An assertion is read (its sub names the client) before any key is checked, so anyone
    can send one: a sub that is a lone surrogate, or an exp of NaN, which Python's json
    accepts and JSON (RFC 8259) does not, is refused as invalid_client on every endpoint
    that authenticates clients, never a 500."""
    for overrides in ({"sub": "\ud800"}, {"exp": float("nan")}):
        payload = json.dumps(claims(world, keyed, clock(), **overrides)).encode("ascii")
        header = base64.urlsafe_b64encode(b'{"alg":"ES256","kid":"k1"}').rstrip(b"=")
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        assertion = (header + b"." + body + b".c2ln").decode("ascii")
        answer = await http.post(endpoint, data=assertion_body(assertion, token="x", grant_type="client_credentials"))
        assert "JSON object of claims" in invalid_client(answer)


# --- With DPoP server nonces (RFC 9449 sections 8 and 9) -------------------------------------


@pytest.mark.parametrize("path", [TOKEN, "/oauth/par"])
async def test_a_nonce_is_asked_for_before_the_assertion_is_used_rfc9449_8_rfc7523_3(
    keyed: RegisteredClient, world: World, clock: Clock, settings: Any, database: Any, path: str
) -> None:
    """RFC 9449 section 8: a proof without the server's nonce gets use_dpop_nonce. Asked
    after the client assertion's jti was claimed (RFC 7523 section 3: used once), the retry
    with the same assertion and a new proof would be refused as a replay."""
    from tessera.app import create_app
    from tests.dpop_support import DpopKey

    app = create_app(settings.with_overrides(dpop_nonce=True), db=database)
    key = DpopKey()
    assertion = sign(claims(world, keyed, clock()))
    if path == TOKEN:
        body = assertion_body(assertion, grant_type="client_credentials", scope="read")
    else:
        body = assertion_body(
            assertion,
            client_id=keyed.client_id,
            response_type="code",
            scope="read",
            redirect_uri="https://app.example.com/callback",
            code_challenge=pkce_pair()[1],
            code_challenge_method="S256",
        )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as http:
        first = await http.post(path, data=body, headers={"DPoP": key.proof("POST", world.origin + path, clock())})
        assert first.status_code == 400, first.text
        assert first.json()["error"] == "use_dpop_nonce"
        nonce = first.headers["dpop-nonce"]
        proof = key.proof("POST", world.origin + path, clock(), nonce=nonce)
        second = await http.post(path, data=body, headers={"DPoP": proof})
        assert second.status_code in (200, 201), second.text
        # The assertion is single use still: now that it was used, it is refused.
        again = await http.post(
            path, data=body, headers={"DPoP": key.proof("POST", world.origin + path, clock(), nonce=nonce)}
        )
        assert "already used" in invalid_client(again)
