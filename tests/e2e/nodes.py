"""Two `tessera serve` processes over one PostgreSQL database: how Tessera runs on many
nodes (docs/scaling.md). Used by the tests that prove what holds across nodes
(test_throttles_across_nodes.py, test_across_nodes.py).

Each node can be reached two ways:

- `origin(node)`: the node's own address (`http://acme.localhost:PORT`), as a client that
  talks to one node directly;
- `client(node)`: an HTTP client that sends requests for the public address `issuer` (node
  A's origin) to the node of its choice, Host header unchanged, as a load balancer in
  front of both does. Both nodes then see the same issuer, so a code, a token, a cookie or a
  form obtained through one node is presented to the other exactly as a browser or a
  client behind a balancer would present it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.e2e import harness
from tests.e2e.harness import Seeded

A, B = 0, 1


class NodeTransport(httpx.HTTPTransport):
    """Sends every request to 127.0.0.1:`port`, keeping its URL's Host header (a balancer)."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wire = httpx.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1", port=self.port),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return super().handle_request(wire)


@dataclass(frozen=True)
class Nodes:
    seeded: Seeded
    database_url: str
    ports: tuple[int, int]
    logs: tuple[Path, Path]

    def origin(self, node: int) -> str:
        """Node `node % 2`'s own address."""
        return f"http://{self.seeded.subdomain}.localhost:{self.ports[node % 2]}"

    @property
    def issuer(self) -> str:
        """The public address both nodes serve behind the balancer (node A's origin)."""
        return self.origin(A)

    def client(self, node: int, **options: Any) -> httpx.Client:
        """Requests for `issuer` answered by node `node`; redirects are not followed."""
        return httpx.Client(transport=NodeTransport(self.ports[node]), follow_redirects=False, timeout=15, **options)

    def log(self, node: int) -> str:
        return self.logs[node].read_text(errors="replace")


@contextmanager
def two_nodes(directory: Path, env: Mapping[str, str] | None = None) -> Iterator[Nodes]:
    """A fresh seeded PostgreSQL database (harness.seed) and two servers on it; `env` adds
    settings to both."""
    with harness.fresh_database("postgresql", directory) as database_url:
        seeded = harness.seed(database_url)
        logs = (directory / "a.log", directory / "b.log")
        with (
            harness.running_server(database_url, logs[A], env=env) as a,
            harness.running_server(database_url, logs[B], env=env) as b,
        ):
            yield Nodes(seeded, database_url, (a, b), logs)
