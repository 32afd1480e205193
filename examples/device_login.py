#!/usr/bin/env python3
"""Sign a user in from a terminal with the device authorization grant (RFC 8628).

A command-line tool has no browser to receive a redirect. Instead it asks Tessera for a
short code, tells the user where to enter it (on their phone or laptop), and polls the
token endpoint until the user has allowed or denied it:

    python examples/device_login.py https://acme.tessera.example --client-id my-cli --scope "read openid"

The client must be allowed the device_code grant, e.g. a public client made with

    tessera clients create --account acme --name "My CLI" --identifier my-cli \\
        --kind public --grant-type device_code --grant-type refresh_token

A confidential client also passes --client-secret. The only dependency is httpx.
On success the token response is printed as JSON; keep the refresh token somewhere safe.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5: slow_down adds 5 seconds to the interval, for good


class DeviceLoginError(Exception):
    """The server refused: access_denied, expired_token, or a mistake in the request."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


def _refusal(response: httpx.Response) -> DeviceLoginError:
    try:
        body = response.json()
        return DeviceLoginError(str(body.get("error")), str(body.get("error_description", "")))
    except ValueError:
        return DeviceLoginError(f"HTTP {response.status_code}", response.text[:200])


def sign_in(
    http: httpx.Client,
    issuer: str,
    client_id: str,
    scope: str,
    client_secret: str | None = None,
    *,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The whole device flow; the token response, or DeviceLoginError."""
    # RFC 8414: the endpoints come from the server's metadata, not from guesses.
    metadata = http.get(issuer.rstrip("/") + "/.well-known/oauth-authorization-server")
    metadata.raise_for_status()
    endpoints = metadata.json()
    # A confidential client authenticates with HTTP Basic; a public one names itself.
    auth = (client_id, client_secret) if client_secret else None
    identify = {} if client_secret else {"client_id": client_id}

    # RFC 8628 section 3.1: ask for a device code and a user code.
    answer = http.post(endpoints["device_authorization_endpoint"], data={"scope": scope, **identify}, auth=auth)
    if answer.status_code != 200:
        raise _refusal(answer)
    codes = answer.json()
    # Section 3.3: tell the user where to go and what to type.
    say(f"To sign in, open {codes['verification_uri']} and enter the code {codes['user_code']}")
    if "verification_uri_complete" in codes:
        say(f"(or open {codes['verification_uri_complete']})")

    # Section 3.4-3.5: poll, never faster than the interval.
    interval = float(codes.get("interval", 5))
    deadline = clock() + float(codes["expires_in"])
    poll = {"grant_type": DEVICE_GRANT, "device_code": codes["device_code"], **identify}
    while clock() < deadline:
        sleep(interval)
        response = http.post(endpoints["token_endpoint"], data=poll, auth=auth)
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        if response.status_code >= 500 or response.status_code == 429:
            continue  # the server is busy: keep the pace and ask again
        refused = _refusal(response)
        if refused.error == "authorization_pending":
            continue
        if refused.error == "slow_down":
            interval += SLOW_DOWN_STEP
            continue
        raise refused  # access_denied, expired_token, invalid_grant, ...
    raise DeviceLoginError("expired_token", "the code expired before anyone entered it; run this again")


def _loopback(request: httpx.Request) -> None:
    """`*.localhost` names this machine (RFC 6761), as in `make demo`'s
    http://demo.localhost:8000. Browsers and curl know it, Python's resolver often does not:
    connect to 127.0.0.1 and keep the name in the Host header, which selects the account."""
    if request.url.host.endswith(".localhost"):
        request.url = request.url.copy_with(host="127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign in to a Tessera account with the device grant (RFC 8628).")
    parser.add_argument("issuer", help="the account's address, e.g. https://acme.tessera.example")
    parser.add_argument("--client-id", required=True, help="a client allowed the device_code grant")
    parser.add_argument("--client-secret", help="only for a confidential client")
    parser.add_argument("--scope", default="read", help='space-separated, e.g. "read openid" (default: read)')
    args = parser.parse_args(argv)
    with httpx.Client(timeout=15, event_hooks={"request": [_loopback]}) as http:
        try:
            tokens = sign_in(http, args.issuer, args.client_id, args.scope, args.client_secret)
        except DeviceLoginError as error:
            print(f"Not signed in: {error}", file=sys.stderr)
            return 1
        except httpx.HTTPError as error:
            print(f"Could not reach {args.issuer}: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("Stopped before anyone allowed it.", file=sys.stderr)
            return 130
    print(json.dumps(tokens, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
