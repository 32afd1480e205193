"""The app serves the endpoints clients call with their credentials without Starlette's
router (web/fixed_paths.py; docs/benchmarks.md has what that saves): token, introspection
and revocation requests never reach the router, every other request does, and the
answers, refusals included, are the endpoints' own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tessera import paths
from tessera.web.route_table import CLIENT_ENDPOINTS
from tests.support import World, count_routed

pytestmark = pytest.mark.anyio


async def test_client_endpoints_skip_the_router_and_answer_as_before(
    app: Any, http: httpx.AsyncClient, world: World
) -> None:
    assert {paths.TOKEN, paths.INTROSPECT, paths.REVOKE, paths.PAR, paths.DEVICE_AUTHORIZATION} <= CLIENT_ENDPOINTS
    routed = count_routed(app)
    issued = await http.post(
        paths.TOKEN, auth=world.machine.basic(), data={"grant_type": "client_credentials", "scope": "read"}
    )
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert issued.headers["access-control-allow-origin"] == "*"
    token = issued.json()["access_token"]

    refused = await http.post(paths.TOKEN, auth=world.machine.basic(), data={"grant_type": "password"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"

    looked_up = await http.post(paths.INTROSPECT, auth=world.machine.basic(), data={"token": token})
    assert looked_up.status_code == 200 and looked_up.json()["active"] is True
    revoked = await http.post(paths.REVOKE, auth=world.machine.basic(), data={"token": token})
    assert revoked.status_code == 200
    assert routed == []

    # A method the endpoint does not take, and everything else, go through the router.
    wrong_method = await http.get(paths.TOKEN)
    assert wrong_method.status_code == 405
    assert (await http.get("/healthz")).status_code == 200
    assert routed == [paths.TOKEN, "/healthz"]
