"""The device authorization request: RFC 8628 sections 3.1 to 3.3; user codes, sections
5.1 and 6.1 (INTERFACE.md section 7).

A client allowed the device_code grant asks for a device code and a user code; the user
enters the user code at ISSUER/device (web/endpoints/device.py), the device polls the
token endpoint (protocol/grants/device_code.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tessera import paths
from tessera.model import Account
from tessera.protocol import client_assertion, client_auth, secrets
from tessera.protocol import scopes as scope_rules
from tessera.protocol.errors import ServerError, UnauthorizedClient, refuse_repeated
from tessera.protocol.ports import ClientStore, DeviceCodeStore, NewDeviceCode, UsedOnceStore

# The name a client must be allowed (model.GRANT_TYPES), and the grant_type it polls with.
GRANT = "device_code"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# RFC 8628 section 3.2: expires_in and interval (its default, 5 seconds).
LIFETIME = 600
INTERVAL = 5
# A new user code collides with a stored one about once in 2^34 / (codes alive): a few
# draws always find a free one; failing them all means the store is broken.
_DRAWS = 5
_MINUS = "\u2212"  # a dash to the eye, a math symbol to Unicode


def _separator(char: str) -> bool:
    return char.isspace() or char == _MINUS or unicodedata.category(char) == "Pd"


def normalise_user_code(raw: str) -> str | None:
    """The user code as stored: case, dashes and spaces do not matter (RFC 8628 section
    6.1), whichever a phone or a paste puts in (an em dash, a minus sign, a no-break or
    ideographic space), and full-width letters are letters (NFKC). None when what is left
    cannot be a user code at all."""
    code = "".join(c for c in unicodedata.normalize("NFKC", raw) if not _separator(c)).upper()
    if len(code) != secrets.USER_CODE_LENGTH or any(c not in secrets.USER_CODE_ALPHABET for c in code):
        return None
    return code


def display_user_code(code: str) -> str:
    """XXXX-XXXX: two groups of four read more easily (RFC 8628 section 6.1)."""
    return f"{code[:4]}-{code[4:]}"


def verification_uri(issuer: str) -> str:
    return issuer + paths.DEVICE


def verification_uri_complete(issuer: str, user_code: str) -> str:
    return verification_uri(issuer) + "?" + urlencode({"user_code": display_user_code(user_code)})


async def authorize_device(
    params: Mapping[str, str],
    repeated: frozenset[str],
    authorization: str | None,
    account: Account,
    issuer: str,
    now: float,
    clients: ClientStore,
    device_codes: DeviceCodeStore,
    used_once: UsedOnceStore | None = None,
) -> dict[str, Any]:
    """RFC 8628 section 3.1 request -> section 3.2 response."""
    refuse_repeated(repeated, "RFC 8628 section 3.1")
    # Section 3.1: a confidential client authenticates as at the token endpoint.
    assertions = client_assertion.at(used_once, issuer, paths.TOKEN, paths.DEVICE_AUTHORIZATION)
    client = await client_auth.authenticate_client(
        clients, account, authorization, params, now=now, assertions=assertions
    )
    if GRANT not in client.grant_types:
        raise UnauthorizedClient(
            f"the client {client.identifier!r} is not allowed the device_code grant; an admin of the "
            f"account must enable it. It may use: {', '.join(sorted(client.grant_types))}"
        )
    scopes = scope_rules.resolve(params.get("scope"), client.allowed_scopes)
    device_code = secrets.new_secret(secrets.DEVICE_CODE_PREFIX)
    for _ in range(_DRAWS):
        user_code = secrets.new_user_code()
        stored = await device_codes.create(
            NewDeviceCode(
                digest=secrets.digest(device_code),
                user_code=user_code,
                account_id=account.id,
                client_id=client.id,
                scopes=scopes,
                created_at=now,
                expires_at=now + LIFETIME,
                interval=INTERVAL,
            )
        )
        if stored is not None:
            break
    else:
        raise ServerError("no free user code was found; try again")
    return {
        "device_code": device_code,
        "user_code": display_user_code(user_code),
        "verification_uri": verification_uri(issuer),
        "verification_uri_complete": verification_uri_complete(issuer, user_code),
        "expires_in": LIFETIME,
        "interval": INTERVAL,
    }
