"""INTERFACE.md section 9: the throttles' counters "are kept in the database, so they hold
across nodes". Two `tessera serve` processes over one PostgreSQL database, an attacker
alternating between them: the limits are the same as against one node. (What else holds
across nodes: test_across_nodes.py; the two-node setup: nodes.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.harness import PASSWORD, http_client
from tests.e2e.nodes import Nodes, two_nodes
from tests.support import forms

pytestmark = pytest.mark.postgres

LIMIT = 10  # TESSERA_THROTTLE_CLIENT_AUTH_PER_CLIENT and _SIGN_IN_PER_EMAIL, by default


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    with two_nodes(tmp_path_factory.mktemp("throttle-nodes")) as both:
        yield both


def guess(http: httpx.Client, nodes: Nodes, node: int, secret: str) -> httpx.Response:
    return http.post(
        f"{nodes.origin(node)}/oauth/tokens",
        auth=(nodes.seeded.client["identifier"], secret),
        data={"grant_type": "client_credentials", "scope": "read"},
    )


def test_a_secret_guessed_on_two_nodes_is_throttled_as_on_one(nodes: Nodes) -> None:
    with http_client() as http:
        statuses = [guess(http, nodes, i, f"guess-{i}").status_code for i in range(LIMIT + 2)]
        assert statuses == [401] * LIMIT + [429, 429]
        # Both nodes have now counted a failure during the wait: both refuse the right secret.
        for node in (0, 1):
            refused = guess(http, nodes, node, nodes.seeded.client["secret"])
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "too_many_requests"
            assert int(refused.headers["retry-after"]) >= 1


def sign_in(http: httpx.Client, nodes: Nodes, node: int, email: str, password: str) -> int:
    login = f"{nodes.origin(node)}/access/login"
    page = http.get(login)
    fields = dict(forms(page.text)[-1].fields)
    return http.post(login, data=dict(fields, email=email, password=password)).status_code


def test_wrong_passwords_on_two_nodes_add_up(nodes: Nodes) -> None:
    with http_client() as http:
        statuses = [sign_in(http, nodes, i, "bob@example.com", "wrong") for i in range(LIMIT)]
        assert statuses == [401] * LIMIT
        assert sign_in(http, nodes, 0, "bob@example.com", PASSWORD) == 429
        assert sign_in(http, nodes, 1, "bob@example.com", PASSWORD) == 429
        # Another user signs in on either node.
        assert sign_in(http, nodes, 1, "alice@example.com", PASSWORD) == 303
