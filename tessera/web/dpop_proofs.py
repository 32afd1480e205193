"""The DPoP header of a request (RFC 9449 section 4.3), read for protocol/dpop/.

The URL a proof must name (`htu`) is built from the account's issuer and the request's
path, never from the Host header as sent: behind a proxy the two may differ, and the
issuer is what the client was told.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.requests import Request

from tessera.protocol import dpop
from tessera.web.headers import RepeatedHeader, lone_header
from tessera.web.services import Services
from tessera.web.tenancy import AccountHost


@lru_cache(maxsize=4)
def _nonces(secret_key: str, required: bool) -> dpop.Nonces:
    return dpop.Nonces.from_secret(secret_key, required=required)


def nonces(services: Services) -> dpop.Nonces:
    return _nonces(services.settings.secret_key, services.settings.dpop_nonce)


def proof_header(request: Request) -> str | None:
    """Section 4.3 item 1: "there is not more than one DPoP HTTP request header field"."""
    try:
        return lone_header(request, b"dpop")
    except RepeatedHeader:
        raise dpop.InvalidDpopProof("send exactly one DPoP header") from None


def proof_check_if_sent(services: Services, request: Request, host: AccountHost) -> dpop.ProofCheck | None:
    """The token endpoint's check, or None when no DPoP header was sent: a bearer token
    request (the common case) builds nothing."""
    if proof_header(request) is None:
        return None
    return proof_check(services, request, host)


def proof_check(services: Services, request: Request, host: AccountHost) -> dpop.ProofCheck:
    return dpop.ProofCheck(
        proof=proof_header(request),
        method=request.method,
        url=host.issuer + request.scope["path"],
        used_once=services.stores.used_once,
        nonces=nonces(services),
    )
