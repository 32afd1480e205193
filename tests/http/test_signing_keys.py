"""Per-account signing keys (issue 5 item 2): GET /oauth/jwks (RFC 7517 section 5, OIDC
Core 10.1), keys encrypted at rest under TESSERA_SECRET_KEY (RFC 7516, INTERFACE.md
section 5: nothing secret stored in plaintext), and rotation: "new key published before
it signs, old key kept in the JWKS until tokens signed with it have expired".

Signatures are checked here with `cryptography` alone (RFC 7515 section 5.2, RFC 7518
sections 3.3 and 3.4), not with joserfc, which Tessera signs with. `verify_jws` and
`code_flow_tokens` are shared with the other OpenID Connect test modules.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tessera.app import create_app
from tessera.key_cipher import KeyCipher, WrongSecretKey
from tessera.key_ring import CACHE_SECONDS, RotatedRecently, generate
from tessera.settings import Settings
from tessera.storage.database import Database
from tessera.storage.schema import signing_keys
from tessera.storage.stores import Stores
from tests.support import Clock, RegisteredClient, World, add_client, make_world, obtain_code, pkce_pair

pytestmark = pytest.mark.anyio

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
HOUR = 3600
# Issue 5: the old key stays published "until tokens signed with it have expired"; the
# longest-lived signed token is a JWT access token of 48 h, so 48 h after the rotation
# the old key must still be there, and tessera documents dropping it after 49 h.
LONGEST_TOKEN = 48 * HOUR
RETIRED_GONE_AFTER = 49 * HOUR


# --- helpers shared with the other OIDC modules --------------------------------------------


class NotVerified(Exception):
    pass


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _int(member: str) -> int:
    return int.from_bytes(b64url_decode(member), "big")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def verify_jws(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS whose signature verifies with the key of its
    kid in `jwks`; NotVerified otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise NotVerified("not a compact JWS")
    header, claims = decode_unverified(token)
    candidates = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if len(candidates) != 1:
        raise NotVerified(f"kid {header.get('kid')!r} is not in the JWK set exactly once")
    key = candidates[0]
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    signature = b64url_decode(parts[2])
    try:
        if header["alg"] == "ES256" and key["kty"] == "EC" and key["crv"] == "P-256":
            # RFC 7518 section 3.4: R and S, 32 octets each, concatenated.
            if len(signature) != 64:
                raise NotVerified("ES256 signature is not 64 octets")
            public = ec.EllipticCurvePublicNumbers(_int(key["x"]), _int(key["y"]), ec.SECP256R1()).public_key()
            der = encode_dss_signature(_int_bytes(signature[:32]), _int_bytes(signature[32:]))
            public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        elif header["alg"] == "RS256" and key["kty"] == "RSA":
            rsa_key = rsa.RSAPublicNumbers(_int(key["e"]), _int(key["n"])).public_key()
            rsa_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise NotVerified(f"alg {header.get('alg')!r} does not fit key type {key.get('kty')!r}")
    except InvalidSignature as error:
        raise NotVerified("bad signature") from error
    return header, claims


def _int_bytes(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


async def code_flow_tokens(
    http: httpx.AsyncClient, client: RegisteredClient, email: str, scope: str = "openid", **params: str
) -> dict[str, Any]:
    """Sign in, authorize (PKCE S256) and redeem the code; the token endpoint's JSON."""
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        http, client, email, scope=scope, code_challenge=challenge, code_challenge_method="S256", **params
    )
    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
    }
    if client.secret is None:
        response = await http.post("/oauth/tokens", data={**data, "client_id": client.client_id})
    else:
        response = await http.post("/oauth/tokens", auth=client.basic(), data=data)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def get_jwks(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/oauth/jwks")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def kids(jwks: dict[str, Any]) -> set[str]:
    return {k["kid"] for k in jwks["keys"]}


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
async def rs256(stores: Stores, world: World, clock: Clock) -> RegisteredClient:
    return await add_client(
        stores, world.account, clock(), redirect_uris=("https://rs.example.com/cb",), signing_alg="RS256"
    )


@pytest.fixture
def new_node(settings: Settings, database: Database, world: World) -> Callable[[], Any]:
    """An HTTP client over a freshly created app, i.e. another node with a cold key cache.

    KeyRing caches the published set for 60 s of *monotonic* time, which clock.advance
    does not move; a new app is what a client sees once that cache has turned over."""

    @asynccontextmanager
    async def open_node() -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=create_app(settings, db=database))
        async with httpx.AsyncClient(transport=transport, base_url=world.origin) as client:
            yield client

    return open_node


async def _stored_keys(stores: Stores, account_id: int) -> list[dict[str, Any]]:
    def select(conn: sa.Connection) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(signing_keys).where(signing_keys.c.account_id == account_id))
        return [dict(row._mapping) for row in rows]

    return await stores.db.read(select)


# --- JWKS ------------------------------------------------------------------------------


async def test_jwks_publishes_public_es256_and_rs256_keys(http: httpx.AsyncClient) -> None:
    """RFC 7517 section 5; OIDC Core 10.1; RFC 7518 sections 6.2.2 and 6.3.2 are the
    private members that must never be published."""
    jwks = await get_jwks(http)
    keys = jwks["keys"]
    assert keys
    for key in keys:
        for member in PRIVATE_MEMBERS:
            assert member not in key, (member, key["kid"])
        assert key["use"] == "sig"
        assert key["alg"] in ("ES256", "RS256")
        if key["alg"] == "ES256":
            assert key["kty"] == "EC"
            assert key["crv"] == "P-256"
            assert len(b64url_decode(key["x"])) == 32
            assert len(b64url_decode(key["y"])) == 32
        else:
            assert key["kty"] == "RSA"
            assert _int(key["n"]).bit_length() >= 2048  # RFC 7518 section 3.3: 2048 bits or more
    assert len(kids(jwks)) == len(keys), "kids must be unique"
    # The signing key and the next key, for each algorithm: the next one is published
    # before it signs.
    assert Counter(k["alg"] for k in keys) == {"ES256": 2, "RS256": 2}


async def test_keys_live_in_the_store_not_in_the_process(
    http: httpx.AsyncClient, world: World, new_node: Callable[[], Any]
) -> None:
    """DESIGN.md "Scale beyond one machine": signing keys live in the store, so every node
    publishes the same set and a token one node signs verifies with another's JWKS."""
    here = await get_jwks(http)
    id_token = (await code_flow_tokens(http, world.web, world.user.email))["id_token"]
    async with new_node() as node:
        there = await get_jwks(node)
        assert kids(there) == kids(here)
        verify_jws(id_token, there)
        other = await code_flow_tokens(node, world.web, world.user.email)
    verify_jws(other["id_token"], here)
    assert decode_unverified(other["id_token"])[0]["kid"] == decode_unverified(id_token)[0]["kid"]


async def test_jwks_differs_between_accounts(http: httpx.AsyncClient, stores: Stores, clock: Clock) -> None:
    other = await make_world(stores, clock)
    theirs = await http.get("/oauth/jwks", headers={"Host": f"{other.subdomain}.localhost"})
    assert theirs.status_code == 200
    assert kids(await get_jwks(http)).isdisjoint(kids(theirs.json()))


async def test_both_algorithms_are_published_while_another_node_is_creating_keys(
    http: httpx.AsyncClient, app: Any, stores: Stores, world: World, clock: Clock
) -> None:
    """Issue 5 item 2: ES256 and RS256 keys per account. Another node may have given
    the account only some of its key sets (here: ES256 only, as an older node or an
    interrupted creation would leave it).
    (Probe: of 12 concurrent first JWKS requests on SQLite, 11 answered with only two keys.)
    The JWKS must still publish RS256 keys, and a JWT signed RS256 must be accepted."""
    cipher = app.state.services.keys.cipher
    await stores.keys.install(world.account.id, [(generate("ES256", cipher), generate("ES256", cipher))], clock())
    first = await get_jwks(http)
    client = await add_client(
        stores,
        world.account,
        clock(),
        redirect_uris=("https://rs.example.com/cb",),
        access_token_format="jwt",
        signing_alg="RS256",
    )
    tokens = await code_flow_tokens(http, client, world.user.email, scope="openid read")
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    verify_jws(tokens["id_token"], await get_jwks(http))
    assert {k["alg"] for k in first["keys"]} == {"ES256", "RS256"}


async def test_jwks_on_the_platform_host_and_unknown_accounts_is_404(http: httpx.AsyncClient) -> None:
    """INTERFACE.md section 2: the platform host is not an issuer."""
    assert (await http.get("/oauth/jwks", headers={"Host": "localhost"})).status_code == 404
    assert (await http.get("/oauth/jwks", headers={"Host": "no-such-account.localhost"})).status_code == 404


# --- keys at rest ----------------------------------------------------------------------


async def test_private_keys_are_stored_only_as_jwe(
    http: httpx.AsyncClient, stores: Stores, world: World, settings: Settings
) -> None:
    """Issue 5: "key sets stored encrypted at rest (key from TESSERA_SECRET_KEY)"; RFC 7516
    section 7.1: a compact JWE has five parts."""
    published = await get_jwks(http)  # makes sure the account has its keys
    rows = await _stored_keys(stores, world.account.id)
    assert {row["kid"] for row in rows} == kids(published)
    right = KeyCipher(settings.secret_key)
    wrong = KeyCipher("another-secret-key-xxxxxxxxxxxxxxxxxxx")
    for row in rows:
        sealed = row["private_jwe"]
        parts = sealed.split(".")
        assert len(parts) == 5
        with pytest.raises(ValueError):
            json.loads(sealed)
        assert json.loads(b64url_decode(parts[0])) == {"alg": "dir", "enc": "A256GCM"}
        private = json.loads(right.open(sealed))
        assert private["kid"] == row["kid"]
        assert "d" in private
        # The decrypted key is the private half of the published one.
        public = json.loads(row["public_jwk"])
        for member in ("x", "y") if row["alg"] == "ES256" else ("n", "e"):
            assert private[member] == public[member]
        # The private exponent appears nowhere in the row in the clear.
        for column, value in row.items():
            assert private["d"] not in str(value), column
        with pytest.raises(WrongSecretKey):
            wrong.open(sealed)


# --- rotation --------------------------------------------------------------------------


async def test_rotation_publishes_before_signing_and_keeps_old_tokens_valid(
    http: httpx.AsyncClient, app: Any, world: World, rs256: RegisteredClient
) -> None:
    """Issue 5: "tokens signed before rotation still validate; new tokens use the new key",
    and the new key was "published before it signs"."""
    es_before = (await code_flow_tokens(http, world.web, world.user.email))["id_token"]
    rs_before = (await code_flow_tokens(http, rs256, world.user.email))["id_token"]
    jwks_before = await get_jwks(http)
    old_es_kid = verify_jws(es_before, jwks_before)[0]["kid"]
    old_rs_kid = verify_jws(rs_before, jwks_before)[0]["kid"]

    new_kids = await app.state.services.keys.rotate(world.account.id)  # what `tessera keys rotate` runs

    # rotate() clears this process's key cache, so the same app shows the new state now.
    jwks_after = await get_jwks(http)
    verify_jws(es_before, jwks_after)
    verify_jws(rs_before, jwks_after)
    es_after = (await code_flow_tokens(http, world.web, world.user.email))["id_token"]
    rs_after = (await code_flow_tokens(http, rs256, world.user.email))["id_token"]
    es_header = verify_jws(es_after, jwks_after)[0]
    rs_header = verify_jws(rs_after, jwks_after)[0]
    assert es_header["alg"] == "ES256"
    assert rs_header["alg"] == "RS256"
    assert es_header["kid"] != old_es_kid
    assert rs_header["kid"] != old_rs_kid
    assert set(new_kids) == {es_header["kid"], rs_header["kid"]}
    # Both new signing keys were already in the JWKS clients fetched before the rotation.
    assert {es_header["kid"], rs_header["kid"]} <= kids(jwks_before)
    # And a new next key per algorithm is published ahead of its own turn.
    fresh = kids(jwks_after) - kids(jwks_before)
    assert len(fresh) == 2
    assert {k["alg"] for k in jwks_after["keys"] if k["kid"] in fresh} == {"ES256", "RS256"}


async def test_jwt_access_token_signed_before_rotation_still_works_at_the_api(
    http: httpx.AsyncClient, app: Any, stores: Stores, world: World, clock: Clock
) -> None:
    client = await add_client(
        stores, world.account, clock(), redirect_uris=("https://jwt.example.com/cb",), access_token_format="jwt"
    )
    token = (await code_flow_tokens(http, client, world.user.email, scope="read"))["access_token"]
    await app.state.services.keys.rotate(world.account.id)
    me = await http.get("/api/v2/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text


async def test_retired_key_stays_published_while_tokens_may_live_then_leaves(
    http: httpx.AsyncClient, app: Any, world: World, clock: Clock, new_node: Callable[[], Any]
) -> None:
    """Issue 5: the old key stays in the JWKS "until tokens signed with it have expired"
    (48 h for the longest-lived JWT access token), and then leaves."""
    id_token = (await code_flow_tokens(http, world.web, world.user.email))["id_token"]
    old_kid = decode_unverified(id_token)[0]["kid"]
    await app.state.services.keys.rotate(world.account.id)

    clock.advance(LONGEST_TOKEN)
    async with new_node() as node:
        still = await get_jwks(node)
    assert old_kid in kids(still)
    verify_jws(id_token, still)

    clock.advance(RETIRED_GONE_AFTER - LONGEST_TOKEN + 60)
    async with new_node() as node:
        later = await get_jwks(node)
    assert old_kid not in kids(later)
    with pytest.raises(NotVerified):
        verify_jws(id_token, later)
    # The keys that sign now (and the next ones) are unaffected.
    assert Counter(k["alg"] for k in later["keys"]) == {"ES256": 2, "RS256": 2}


async def test_rotating_twice_keeps_both_retired_keys_published(
    http: httpx.AsyncClient, app: Any, world: World, clock: Clock
) -> None:
    first = decode_unverified((await code_flow_tokens(http, world.web, world.user.email))["id_token"])[0]["kid"]
    await app.state.services.keys.rotate(world.account.id)
    second = decode_unverified((await code_flow_tokens(http, world.web, world.user.email))["id_token"])[0]["kid"]
    clock.advance(CACHE_SECONDS)  # a second rotation waits for every node's key cache (below)
    await app.state.services.keys.rotate(world.account.id)
    third = decode_unverified((await code_flow_tokens(http, world.web, world.user.email))["id_token"])[0]["kid"]
    assert len({first, second, third}) == 3
    assert {first, second, third} <= kids(await get_jwks(http))


async def test_a_second_rotation_waits_until_every_node_publishes_its_key(app: Any, world: World, clock: Clock) -> None:
    """A rotation signs with the key the previous rotation made and published. Another node
    serves a JWKS it cached up to CACHE_SECONDS ago, which may predate that key: rotating
    again sooner would sign tokens that node's JWKS cannot verify. So it is refused, saying
    how long to wait, and nothing changes; after the wait it goes through."""
    keys = app.state.services.keys
    await keys.rotate(world.account.id)
    before = {key.kid for key in (await keys.published(world.account.id)).keys}
    clock.advance(CACHE_SECONDS - 5)
    with pytest.raises(RotatedRecently, match="rotate again in 5 seconds"):
        await keys.rotate(world.account.id)
    assert {key.kid for key in (await keys.published(world.account.id)).keys} == before
    clock.advance(5)
    assert await keys.rotate(world.account.id)
