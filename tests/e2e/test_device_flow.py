"""The device authorization grant end to end (RFC 8628; INTERFACE.md section 7), against a
real `tessera serve` on SQLite and PostgreSQL, with a device client made by the real CLI.

The device is played over HTTP exactly as a TV or CLI would (and, in the last test, by
examples/device_login.py itself); the user is played over HTTP exactly as a browser would:
the /device link, the login page, the code, the app and its scopes, Allow or Deny.
Real time: the slow_down test waits out its 10-second interval.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.e2e import harness
from tests.e2e.harness import Server
from tests.support import forms

pytestmark = pytest.mark.e2e

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
BOB = "bob@example.com"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("device_login", harness.ROOT / "examples" / "device_login.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tv(server: Server) -> str:
    """A public client allowed the device grant, made as an admin would: `tessera clients create`."""
    made = harness.tessera_json(
        server.database_url,
        *("clients", "create", "--account", server.subdomain, "--name", "Living Room TV", "--identifier", "tv"),
        *("--kind", "public", "--grant-type", "device_code", "--grant-type", "refresh_token"),
    )
    return str(made["client"]["identifier"])


@pytest.fixture
def device(server: Server) -> Iterator[httpx.Client]:
    with harness.http_client(base_url=server.issuer) as http:
        yield http


def ask_for_codes(device: httpx.Client, client_id: str, scope: str) -> dict[str, Any]:
    """RFC 8628 section 3.1, with the endpoint taken from discovery (section 4)."""
    metadata = device.get("/.well-known/oauth-authorization-server").json()
    assert DEVICE_GRANT in metadata["grant_types_supported"]
    answer = device.post(metadata["device_authorization_endpoint"], data={"client_id": client_id, "scope": scope})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def poll(device: httpx.Client, client_id: str, device_code: str) -> httpx.Response:
    return device.post(
        "/oauth/tokens", data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id}
    )


def user_decides(link: str, email: str, decision: str) -> str:
    """Be the user's browser: open the link, sign in, confirm the code, Allow or Deny; the
    final page's text."""
    with harness.http_client() as browser:
        first = browser.get(link)
        assert first.status_code == 302, first.text
        login_url = urljoin(link, first.headers["location"])
        assert urlsplit(login_url).path == "/access/login"
        page = browser.get(login_url)
        login = next(f for f in forms(page.text) if "password" in f.fields)
        signed_in = browser.post(
            urljoin(login_url, login.action), data=dict(login.fields, email=email, password=harness.PASSWORD)
        )
        assert signed_in.status_code == 303, signed_in.text
        back = urljoin(login_url, signed_in.headers["location"])
        assert back == link  # back at the code, as the link had it
        entry = browser.get(back)
        form = next(f for f in forms(entry.text) if f.action == "/device")
        assert form.fields["user_code"] and form.fields["authenticity_token"]
        confirm = browser.post(urljoin(back, form.action), data=form.fields)
        assert confirm.status_code == 200, confirm.text
        assert "Living Room TV" in confirm.text and form.fields["user_code"] in confirm.text
        decide = next(f for f in forms(confirm.text) if f.action == "/device/decision")
        decided = browser.post(urljoin(back, decide.action), data=dict(decide.fields, decision=decision))
        assert decided.status_code == 303, decided.text  # Post/Redirect/Get: the answer is a page of its own
        done = browser.get(urljoin(back, decided.headers["location"]))
        assert done.status_code == 200, done.text
        return done.text


def test_a_device_polls_slows_down_and_gets_tokens_once(server: Server, tv: str, device: httpx.Client) -> None:
    """RFC 8628 sections 3.1-3.5, INTERFACE.md section 7: authorization_pending, slow_down
    (+5 s), the user allows, the usual token response (refresh and ID token), used once."""
    codes = ask_for_codes(device, tv, "read openid")
    assert codes["verification_uri"] == server.issuer + "/device"
    assert poll(device, tv, codes["device_code"]).json()["error"] == "authorization_pending"
    too_soon = poll(device, tv, codes["device_code"])
    assert (too_soon.status_code, too_soon.json()["error"]) == (400, "slow_down")
    interval = codes["interval"] + 5
    assert "Device connected" in user_decides(codes["verification_uri_complete"], BOB, "allow")
    time.sleep(interval)
    tokens = poll(device, tv, codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "bearer" and body["scope"] == "read openid"
    assert body["refresh_token"].startswith("tsr_") and body["id_token"].count(".") == 2
    me = device.get("/api/v2/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["user"]["email"] == BOB
    again = poll(device, tv, codes["device_code"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert codes["device_code"] not in server.log() and codes["user_code"].replace("-", "") not in server.log()


def test_a_denied_device_is_told_access_denied(server: Server, tv: str, device: httpx.Client) -> None:
    """RFC 8628 section 3.5: access_denied once the user said no, and from then on."""
    codes = ask_for_codes(device, tv, "read")
    assert "Access denied" in user_decides(codes["verification_uri_complete"], BOB, "deny")
    for _ in range(2):
        refused = poll(device, tv, codes["device_code"])
        assert (refused.status_code, refused.json()["error"]) == (400, "access_denied")


def test_the_example_script_signs_a_user_in_from_a_terminal(server: Server, tv: str) -> None:
    """examples/device_login.py, as documented in docs/device.md: it prints where to go and
    the code, polls at the interval, and returns the token response."""
    example = _example()
    said: queue.Queue[str] = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        with harness.http_client() as http:
            try:
                outcome["tokens"] = example.sign_in(http, server.issuer, tv, "read", say=said.put)
            except BaseException as error:  # reported below
                outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    first = said.get(timeout=15)
    assert first.startswith(f"To sign in, open {server.issuer}/device and enter the code ")
    link = said.get(timeout=5).removeprefix("(or open ").removesuffix(")")
    user_decides(link, BOB, "allow")
    thread.join(timeout=30)
    assert "error" not in outcome, outcome
    assert outcome["tokens"]["access_token"].startswith("tsa_")


def test_the_example_script_slows_down_when_told(server: Server, tv: str) -> None:
    """RFC 8628 section 3.5 from the device's side: a device that polls too fast (here the
    example with its sleep taken away) is told slow_down, and adds 5 s each time."""
    example = _example()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 3:
            raise KeyboardInterrupt  # enough seen; the device is switched off

    with harness.http_client() as http, pytest.raises(KeyboardInterrupt):
        example.sign_in(http, server.issuer, tv, "read", say=lambda _: None, sleep=sleep)
    assert waits == [5, 5, 10, 15]  # pending, then slow_down twice
