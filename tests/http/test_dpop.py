"""DPoP over HTTP: RFC 9449 sections 4.3, 5, 5.1, 6, 7.1, 7.2, 8, 9 and 11.1; INTERFACE.md
section 10 ("DPoP"). The token endpoint binds tokens to the proof's key; the API then
needs `Authorization: DPoP` with a fresh proof for the method, URL and token.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from tessera.protocol import dpop
from tessera.storage.stores import Stores
from tests.dpop_support import DpopKey
from tests.support import Clock, RegisteredClient, World, add_client, code_tokens, obtain_code, pkce_pair

pytestmark = pytest.mark.anyio

ME = "/api/v2/users/me"
TOKEN = "/oauth/tokens"
INTROSPECT = "/oauth/introspect"


async def _machine_dpop_token(
    http: httpx.AsyncClient, world: World, clock: Clock, key: DpopKey, **proof_options: Any
) -> httpx.Response:
    proof = key.proof("POST", world.origin + TOKEN, clock(), **proof_options)
    return await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"DPoP": proof},
    )


async def _bound_token(http: httpx.AsyncClient, world: World, clock: Clock, key: DpopKey) -> str:
    response = await _machine_dpop_token(http, world, clock, key)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _dpop_headers(world: World, clock: Clock, key: DpopKey, token: str, **options: Any) -> dict[str, str]:
    method = options.pop("htm", "GET")
    url = options.pop("htu", world.origin + ME)
    return {
        "Authorization": f"DPoP {token}",
        "DPoP": key.proof(method, url, clock(), access_token=options.pop("ath_of", token), **options),
    }


def _assert_token_endpoint_refusal(response: httpx.Response, error: str, words: str) -> None:
    """RFC 9449 section 5: invalid_dpop_proof is an RFC 6749 section 5.2 error (400)."""
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert words in response.json()["error_description"]


def _assert_api_refusal(response: httpx.Response, error: str, words: str) -> None:
    """RFC 9449 section 7.1: 401 with WWW-Authenticate: DPoP error=..., algs=..."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("DPoP ")
    assert f'error="{error}"' in challenge
    assert f'algs="{" ".join(dpop.ALGORITHMS)}"' in challenge
    assert response.json()["error"] == error
    assert words in response.json()["description"]


# --- Section 5: the token endpoint binds the token ------------------------------------------


async def test_section_5_token_type_dpop_and_the_api_accepts_a_fresh_proof(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    response = await _machine_dpop_token(http, world, clock, key)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    token = response.json()["access_token"]
    me = await http.get(ME, headers=_dpop_headers(world, clock, key, token))
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == world.admin.id


async def test_section_6_2_introspection_shows_cnf_jkt(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    key = DpopKey()
    token = await _bound_token(http, world, clock, key)
    response = await http.post(INTROSPECT, auth=world.machine.basic(), data={"token": token})
    body = response.json()
    assert body["active"] is True
    assert body["cnf"] == {"jkt": key.jkt}
    assert body["token_type"] == "DPoP"


async def test_without_a_proof_tokens_stay_bearer(http: httpx.AsyncClient, world: World) -> None:
    """Unbound tokens keep working as today (INTERFACE.md section 10: DPoP is per request or client)."""
    response = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    me = await http.get(ME, headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert me.status_code == 200


async def test_section_6_1_jwt_access_token_carries_cnf_jkt(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    import json

    from joserfc import jws

    machine = await add_client(
        stores, world.account, clock(), grant_types=("client_credentials",), access_token_format="jwt"
    )
    key = DpopKey()
    response = await http.post(
        TOKEN,
        auth=machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())},
    )
    assert response.status_code == 200, response.text
    claims = json.loads(jws.extract_compact(response.json()["access_token"].encode()).payload)
    assert claims["cnf"] == {"jkt": key.jkt}
    me = await http.get(ME, headers=_dpop_headers(world, clock, key, response.json()["access_token"]))
    assert me.status_code == 200, me.text


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"htm": "GET"}, "htm"),
        ({"htu": "http://elsewhere.localhost/oauth/tokens"}, "htu"),
        ({"iat_offset": -65}, "iat"),
        ({"iat_offset": 65}, "iat"),
        ({"header": {"typ": "JWT"}}, "typ"),
        ({"private": True}, "private"),
    ],
)
async def test_section_4_3_refusals_at_the_token_endpoint(
    http: httpx.AsyncClient, world: World, clock: Clock, options: dict[str, Any], words: str
) -> None:
    key = DpopKey()
    header = dict(options.get("header", {}))
    if options.get("private"):
        header["jwk"] = dict(key.key.as_dict(private=True))
    proof = key.proof(
        options.get("htm", "POST"),
        options.get("htu", world.origin + TOKEN),
        clock() + options.get("iat_offset", 0),
        header=header,
    )
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"DPoP": proof},
    )
    _assert_token_endpoint_refusal(response, "invalid_dpop_proof", words)


async def test_section_11_1_replayed_proof_refused_at_the_token_endpoint(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    proof = DpopKey().proof("POST", world.origin + TOKEN, clock())
    data = {"grant_type": "client_credentials", "scope": "read"}
    first = await http.post(TOKEN, auth=world.machine.basic(), data=data, headers={"DPoP": proof})
    assert first.status_code == 200, first.text
    again = await http.post(TOKEN, auth=world.machine.basic(), data=data, headers={"DPoP": proof})
    _assert_token_endpoint_refusal(again, "invalid_dpop_proof", "already used")


async def test_section_5_2_require_dpop_without_a_proof(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    strict = await add_client(stores, world.account, clock(), grant_types=("client_credentials",), require_dpop=True)
    response = await http.post(TOKEN, auth=strict.basic(), data={"grant_type": "client_credentials", "scope": "read"})
    _assert_token_endpoint_refusal(response, "invalid_request", "must use DPoP")
    key = DpopKey()
    with_proof = await http.post(
        TOKEN,
        auth=strict.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())},
    )
    assert with_proof.json()["token_type"] == "DPoP"


# --- Section 7: the API --------------------------------------------------------------------


async def test_section_7_2_bound_token_as_bearer_refused(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    token = await _bound_token(http, world, clock, DpopKey())
    response = await http.get(ME, headers={"Authorization": f"Bearer {token}"})
    _assert_api_refusal(response, "invalid_token", "bound to a DPoP key")


async def test_section_7_1_missing_proof_for_a_dpop_token(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    token = await _bound_token(http, world, clock, DpopKey())
    response = await http.get(ME, headers={"Authorization": f"DPoP {token}"})
    _assert_api_refusal(response, "invalid_dpop_proof", "needs a DPoP proof")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"htm": "POST"}, "htm"),
        ({"htu": "http://elsewhere.localhost/api/v2/users/me"}, "htu"),
        ({"ath_of": "tsa_another_token"}, "ath"),
        ({"iat_offset": -65}, "iat"),
        ({"iat_offset": 65}, "iat"),
    ],
)
async def test_section_4_3_refusals_at_the_api(
    http: httpx.AsyncClient, world: World, clock: Clock, options: dict[str, Any], words: str
) -> None:
    key = DpopKey()
    token = await _bound_token(http, world, clock, key)
    options = dict(options)  # the parameters are shared by both engines' runs
    offset = options.pop("iat_offset", 0)
    clock.advance(-offset)  # the proof is signed at the shifted time
    headers = _dpop_headers(world, clock, key, token, **options)
    clock.advance(offset)
    _assert_api_refusal(await http.get(ME, headers=headers), "invalid_dpop_proof", words)


async def test_section_7_1_a_token_lacking_the_scope_gets_a_dpop_challenge_naming_it(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """Section 7.1 (error codes as RFC 6750 section 3.1): 403 insufficient_scope in the DPoP
    scheme's challenge, with the scope needed, as the Bearer challenge says it."""
    key = DpopKey()
    proof = key.proof("POST", world.origin + TOKEN, clock())
    issued = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "tickets:read"},
        headers={"DPoP": proof},
    )  # fmt: skip
    assert issued.status_code == 200, issued.text
    response = await http.get(ME, headers=_dpop_headers(world, clock, key, issued.json()["access_token"]))
    assert response.status_code == 403, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("DPoP ") and 'error="insufficient_scope"' in challenge
    assert 'scope="users:read"' in challenge


async def test_an_administration_endpoint_answers_forbidden_to_a_dpop_token_lacking_the_scope(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """INTERFACE.md section 6 ("Anyone else: 403 Forbidden saying what is missing") for a
    DPoP-bound token as for a bearer one; the DPoP challenge says insufficient_scope."""
    key = DpopKey()
    issued = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "tickets:read"},
        headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())},
    )  # fmt: skip
    token = issued.json()["access_token"]
    clients = "/api/v2/oauth/clients"
    response = await http.get(clients, headers=_dpop_headers(world, clock, key, token, htu=world.origin + clients))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden" and "scope" in response.json()["description"]
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_section_7_1_proof_by_another_key(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    token = await _bound_token(http, world, clock, DpopKey())
    response = await http.get(ME, headers=_dpop_headers(world, clock, DpopKey(), token))
    _assert_api_refusal(response, "invalid_dpop_proof", "another key")


async def test_section_11_1_replayed_proof_refused_at_the_api(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    token = await _bound_token(http, world, clock, key)
    headers = _dpop_headers(world, clock, key, token)
    assert (await http.get(ME, headers=headers)).status_code == 200
    _assert_api_refusal(await http.get(ME, headers=headers), "invalid_dpop_proof", "already used")


async def test_concurrent_calls_each_get_their_own_answer(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    """Proofs that arrive together are verified together (protocol/dpop/batch.py): each call
    still gets its own answer, and of two calls carrying the same proof exactly one is
    accepted (section 11.1), even when both were verified in the same turn."""
    key = DpopKey()
    token = await _bound_token(http, world, clock, key)
    same = _dpop_headers(world, clock, key, token)
    calls = [
        http.get(ME, headers=_dpop_headers(world, clock, key, token)),
        http.get(ME, headers=_dpop_headers(world, clock, key, token, htm="POST")),
        http.get(ME, headers=same),
        http.get(ME, headers=same),
        http.get(ME, headers=_dpop_headers(world, clock, DpopKey(), token)),
    ]
    fresh, wrong_method, first, second, other_key = await asyncio.gather(*calls)
    assert fresh.status_code == 200, fresh.text
    _assert_api_refusal(wrong_method, "invalid_dpop_proof", "htm")
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    _assert_api_refusal(first if first.status_code == 401 else second, "invalid_dpop_proof", "already used")
    _assert_api_refusal(other_key, "invalid_dpop_proof", "another key")


async def test_unbound_token_with_the_dpop_scheme_refused(http: httpx.AsyncClient, world: World, clock: Clock) -> None:
    response = await http.post(
        TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    token = response.json()["access_token"]
    _assert_api_refusal(
        await http.get(ME, headers=_dpop_headers(world, clock, DpopKey(), token)), "invalid_token", "not bound"
    )


# --- Sections 8 and 9: server nonces -------------------------------------------------------


async def test_sections_8_9_nonce_flow(world: World, clock: Clock, settings: Any, database: Any) -> None:
    """TESSERA_DPOP_NONCE=1: use_dpop_nonce with DPoP-Nonce at the token endpoint (400) and
    at the API (401, WWW-Authenticate: DPoP error="use_dpop_nonce"); the nonce then works."""
    from tessera.app import create_app

    app = create_app(settings.with_overrides(dpop_nonce=True), db=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=world.origin) as http:
        key = DpopKey()
        first = await _machine_dpop_token(http, world, clock, key)
        _assert_token_endpoint_refusal(first, "use_dpop_nonce", "nonce")
        nonce = first.headers["dpop-nonce"]
        second = await _machine_dpop_token(http, world, clock, key, nonce=nonce)
        assert second.status_code == 200, second.text
        token = second.json()["access_token"]
        without = await http.get(ME, headers=_dpop_headers(world, clock, key, token))
        _assert_api_refusal(without, "use_dpop_nonce", "nonce")
        assert without.headers["dpop-nonce"] == nonce
        with_nonce = await http.get(ME, headers=_dpop_headers(world, clock, key, token, nonce=nonce))
        assert with_nonce.status_code == 200, with_nonce.text


# --- Section 5.1: a public client's refresh token is bound -----------------------------------


async def _public_dpop_tokens(
    http: httpx.AsyncClient, world: World, clock: Clock, key: DpopKey, scope: str = "read"
) -> dict[str, Any]:
    client: RegisteredClient = world.spa
    verifier, challenge = pkce_pair()
    code = await obtain_code(
        http, client, world.user.email, scope=scope, code_challenge=challenge, code_challenge_method="S256"
    )
    data = {
        "grant_type": "authorization_code",
        "code": code["code"],
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
        "client_id": client.client_id,
    }
    response = await http.post(TOKEN, data=data, headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())})
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    return dict(response.json())


async def test_section_5_1_public_refresh_needs_the_same_key(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    tokens = await _public_dpop_tokens(http, world, clock, key)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": world.spa.client_id}
    no_proof = await http.post(TOKEN, data=data)
    _assert_token_endpoint_refusal(no_proof, "invalid_dpop_proof", "bound to a DPoP key")
    other_key = await http.post(
        TOKEN, data=data, headers={"DPoP": DpopKey().proof("POST", world.origin + TOKEN, clock())}
    )
    _assert_token_endpoint_refusal(other_key, "invalid_grant", "another DPoP key")
    same_key = await http.post(TOKEN, data=data, headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())})
    assert same_key.status_code == 200, same_key.text
    assert same_key.json()["token_type"] == "DPoP"


async def test_section_5_confidential_refresh_is_unbound_but_the_new_token_is_bound(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    tokens = await code_tokens(http, world.web, world.user.email)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    response = await http.post(
        TOKEN, auth=world.web.basic(), data=data, headers={"DPoP": key.proof("POST", world.origin + TOKEN, clock())}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "DPoP"
    token = response.json()["access_token"]
    assert (await http.get(ME, headers=_dpop_headers(world, clock, key, token))).status_code == 200


# --- Section 5.2: dpop_bound_access_tokens in the clients API and dynamic registration -------


async def test_section_5_2_clients_api_sets_dpop_bound_access_tokens(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    from tests.http.admin_support import bearer

    admin = await bearer(stores, world, world.admin, "read write", clock)
    new = {"client": {"name": "Bound", "identifier": "bound_app", "grant_types": ["client_credentials"],
                      "dpop_bound_access_tokens": True}}  # fmt: skip
    created = await http.post("/api/v2/oauth/clients", json=new, headers=admin)
    assert created.status_code == 201, created.text
    client = created.json()["client"]
    assert client["dpop_bound_access_tokens"] is True
    refused = await http.post(
        TOKEN, auth=(client["identifier"], client["secret"]), data={"grant_type": "client_credentials", "scope": "read"}
    )
    _assert_token_endpoint_refusal(refused, "invalid_request", "must use DPoP")
    changed = await http.put(
        f"/api/v2/oauth/clients/{client['id']}", json={"client": {"dpop_bound_access_tokens": False}}, headers=admin
    )
    assert changed.json()["client"]["dpop_bound_access_tokens"] is False


async def test_section_5_2_dynamic_registration_keeps_dpop_bound_access_tokens(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    from tessera.management import accounts

    await accounts.set_registration_policy(stores, world.subdomain, "open")
    body = {"redirect_uris": ["https://agent.example/cb"], "token_endpoint_auth_method": "none",
            "dpop_bound_access_tokens": True}  # fmt: skip
    response = await http.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["dpop_bound_access_tokens"] is True
    bad = await http.post("/oauth/register", json={**body, "dpop_bound_access_tokens": "yes"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client_metadata"


async def test_discovery_lists_dpop_signing_alg_values_supported(http: httpx.AsyncClient) -> None:
    """RFC 9449 section 5.1."""
    document = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert document["dpop_signing_alg_values_supported"] == list(dpop.ALGORITHMS)


async def test_section_7_userinfo_accepts_dpop_and_refuses_the_bound_token_as_bearer(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    key = DpopKey()
    token = (await _public_dpop_tokens(http, world, clock, key, scope="openid email"))["access_token"]
    userinfo = world.origin + "/oauth/userinfo"
    as_bearer = await http.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401
    assert as_bearer.headers["www-authenticate"].startswith("DPoP ")
    assert as_bearer.json()["error"] == "invalid_token"
    headers = _dpop_headers(world, clock, key, token, htu=userinfo)
    response = await http.get("/oauth/userinfo", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == world.user.email
    replayed = await http.get("/oauth/userinfo", headers=headers)
    assert replayed.status_code == 401
    assert 'error="invalid_dpop_proof"' in replayed.headers["www-authenticate"]


async def test_section_5_2_console_checkbox_sets_and_clears_require_dpop(
    http: httpx.AsyncClient, world: World, stores: Stores
) -> None:
    """INTERFACE.md section 10: the console shows and sets the per-client option."""
    from tests.http.test_admin_console import _as_admin, _client_form, _csrf

    await _as_admin(http, world)
    path = f"/admin/clients/{world.web.client.id}"
    page = await http.get(path)
    assert 'name="require_dpop"' in page.text and "Require DPoP" in page.text
    fields = {"identifier": world.web.client_id, "redirect_uri": "https://x.example.com/cb"}
    saved = await http.post(path, data=_client_form(_csrf(page.text), require_dpop="1", **fields))
    assert saved.status_code == 303, saved.text
    client = await stores.clients.find(world.account.id, world.web.client_id)
    assert client is not None and client.require_dpop is True
    page = await http.get(path)
    assert 'name="require_dpop" value="1" checked' in page.text
    cleared = await http.post(path, data=_client_form(_csrf(page.text), **fields))
    assert cleared.status_code == 303, cleared.text
    page = await http.get(path)
    assert 'name="require_dpop" value="1" aria-describedby' in page.text  # unchecked


async def test_section_5_2_require_dpop_refuses_the_implicit_grant(
    http: httpx.AsyncClient, world: World, stores: Stores, clock: Clock
) -> None:
    """A client that must get DPoP-bound tokens cannot use response_type=token: RFC 9449 has
    no proof at the authorization endpoint, so those tokens would be bearer tokens."""
    from tests.support import authorize_url, fragment_of, sign_in

    strict = await add_client(
        stores,
        world.account,
        clock(),
        grant_types=("authorization_code", "implicit"),
        redirect_uris=("https://strict.example.com/cb",),
        require_dpop=True,
    )
    await sign_in(http, world.user.email)
    response = await http.get(authorize_url(strict, response_type="token"))
    assert response.status_code in (302, 303), response.text
    answer = fragment_of(response.headers["location"])
    assert answer["error"] == "unauthorized_client"
    assert "DPoP" in answer["error_description"]


def _renamed_alg(proof: str, alg: str) -> str:
    """The proof with its header's alg replaced (its signature then fits nothing)."""
    header, payload, signature = proof.split(".")
    fields = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    renamed = base64.urlsafe_b64encode(json.dumps({**fields, "alg": alg}).encode()).rstrip(b"=").decode()
    return f"{renamed}.{payload}.{signature}"


async def test_a_jwk_of_another_kind_than_alg_is_a_refusal_not_a_server_error(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """RFC 9449 section 4.3 item 7 with RFC 7518 section 3.4: an RSA key under ES256 is an
    invalid_dpop_proof at the token endpoint (400) and at the API (401 with the DPoP
    challenge). It was a 500, reached with no more than a public client's id."""
    rsa = DpopKey("RS256")
    proof = _renamed_alg(rsa.proof("POST", world.origin + TOKEN, clock()), "ES256")
    response = await http.post(
        TOKEN,
        data={"grant_type": "authorization_code", "client_id": world.spa.client_id, "code": "x"},
        headers={"DPoP": proof},
    )
    _assert_token_endpoint_refusal(response, "invalid_dpop_proof", "does not fit its alg ES256")
    key = DpopKey()
    token = await _bound_token(http, world, clock, key)
    headers = {
        "Authorization": f"DPoP {token}",
        "DPoP": _renamed_alg(rsa.proof("GET", world.origin + ME, clock(), access_token=token), "ES256"),
    }
    _assert_api_refusal(await http.get(ME, headers=headers), "invalid_dpop_proof", "does not fit its alg ES256")


async def test_section_4_3_item_1_two_dpop_headers_are_refused(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    """Section 4.3 item 1: "there is not more than one DPoP HTTP request header field"."""
    key = DpopKey()
    proofs = [key.proof("POST", world.origin + TOKEN, clock()) for _ in range(2)]
    response = await http.post(
        TOKEN,
        auth=world.machine.basic(),
        data={"grant_type": "client_credentials", "scope": "read"},
        headers=[("DPoP", proofs[0]), ("DPoP", proofs[1])],
    )
    _assert_token_endpoint_refusal(response, "invalid_dpop_proof", "exactly one DPoP header")
