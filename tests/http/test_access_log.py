"""Access logs never hold a secret (INTERFACE.md section 5: no issued secret in a log line):
Tessera's own access log writes the query string only at DEBUG, with the values of secret
parameters redacted, and uvicorn's access log, if a deployment turns it on, is redacted
by the filter the ASGI factory attaches (tessera/asgi.py)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from uvicorn.logging import AccessFormatter

from tessera.app import create_app
from tessera.settings import Settings
from tessera.storage.database import Database
from tessera.web.access_log import RedactSecrets, redact
from tests.support import World

pytestmark = pytest.mark.anyio

SECRETS = {
    "access_token": "tsa_SECRETaccess",
    "id_token_hint": "eyJSECRET.idtoken.hint",
    "code": "tsc_SECRETcode",
    "client_secret": "SECRETclientsecret",
    "refresh_token": "tsr_SECRETrefresh",
    "token": "tsa_SECRETtoken",
}


def test_redact_replaces_the_value_of_every_secret_parameter_and_keeps_the_rest() -> None:
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    redacted = redact(f"/oauth/x?state=abc&{query}&scope=read+write")
    assert not [v for v in SECRETS.values() if v in redacted], redacted
    assert redacted.startswith("/oauth/x?state=abc&access_token=[redacted]&id_token_hint=[redacted]&code=[redacted]")
    assert redacted.endswith("&scope=read+write")


@pytest.mark.parametrize(
    "target",
    [
        "/x?access%5Ftoken=SECRET",  # the name percent-encoded, as parse_qsl decodes it
        "/x?a=1;code=SECRET",
        "/x?logout_token=SECRET",  # any name ending in "token"
        "/x?device_code=SECRET&user_code=SECRET",
        '"GET /x?password=SECRET HTTP/1.1" 400',  # inside a formatted line
    ],
)
def test_redact_handles_encoded_names_other_separators_and_formatted_lines(target: str) -> None:
    assert "SECRET" not in redact(target)


def test_uvicorns_access_log_line_is_redacted_by_the_filter() -> None:
    """The record exactly as uvicorn's httptools protocol logs it, through uvicorn's own
    AccessFormatter (which unpacks the arguments: the filter must keep their shape)."""
    logger = logging.getLogger("tests.uvicorn.access")
    logger.addFilter(RedactSecrets())
    target = "/api/v2/users/me?" + "&".join(f"{k}={v}" for k, v in SECRETS.items())
    args = ("127.0.0.1:50000", "GET", target, "1.1", 401)
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)
    assert logger.filters[0].filter(record)
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert "access_token=[redacted]" in line
    assert not [v for v in SECRETS.values() if v in line], line


@pytest.fixture
async def logged_http(settings: Settings, database: Database, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_overrides(access_log=True), db=database)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=world.origin) as client:
        yield client


async def test_tessera_access_log_at_debug_writes_queries_with_secrets_redacted(
    logged_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tessera"):
        await logged_http.get("/api/v2/users/me", params={"access_token": SECRETS["access_token"]})
        await logged_http.get("/access/logout", params={"id_token_hint": SECRETS["id_token_hint"], "state": "s1"})
        await logged_http.get("/oauth/authorizations/new", params={k: SECRETS[k] for k in ("code", "client_secret")})
        await logged_http.post("/oauth/tokens?refresh_token=" + SECRETS["refresh_token"], data={"token": "x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "tessera.access"]
    assert len(lines) == 4, lines
    assert "/api/v2/users/me?access_token=[redacted]" in lines[0]
    assert "id_token_hint=[redacted]&state=s1" in lines[1]
    assert not [v for v in SECRETS.values() if v in caplog.text], caplog.text


async def test_tessera_access_log_at_info_writes_no_query_string(
    logged_http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tessera"):
        await logged_http.get("/access/logout", params={"id_token_hint": SECRETS["id_token_hint"], "state": "s1"})
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tessera.access"]
    assert '"GET /access/logout" ' in line


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /access/login?return_to=%2Fdevice%3Fuser_code%3DWDJB-MJHT HTTP/1.1", "WDJB-MJHT"),
        (
            "GET /access/login?return_to=%2Foauth%2Fauthorizations%2Fnew%3Fclient_id%3Dweb%26par_flow%3Dflowsecret1 200",
            "flowsecret1",
        ),
        ("GET /oauth/authorizations/new?client_id=web&request_uri=urn:x&par_flow=flowsecret2 302", "flowsecret2"),
    ],
)
def test_secrets_inside_a_return_to_and_the_par_flow_are_redacted(line: str, secret: str) -> None:
    """INTERFACE.md section 5: no issued code, token or secret in full in any log output,
    including the query of a URL carried in a parameter (the login page's return_to) and the
    value that carries a pushed request through sign-in."""
    redacted = redact(line)
    assert secret not in redacted
    assert "[redacted]" in redacted
    assert redacted.split("?", 1)[0] == line.split("?", 1)[0]
