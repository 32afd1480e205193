"""INTERFACE.md section 8, CLI: `tessera resources create --account SUB --uri URI [--name N]
[--scope S]... [--json]`, `tessera resources list|delete`, run for real as subprocesses with
section 1's rules: `--json` prints exactly one object wrapped as the API wraps it; a
domain mistake (RFC 8707 section 2: a URI with a fragment; an unknown scope; a duplicate;
an unknown account) is one line on stderr and exit 2; never a traceback.
"""

from __future__ import annotations

import pytest

from tests.cli.test_cli import Done, only_json, run, succeeded

MCP = "https://mcp.example.com/mcp"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-resources') / 'tessera.db'}"
    succeeded(run(url, "accounts", "create", "acme"))
    return url


def refused(done: Done, *said: str) -> None:
    assert done.returncode == 2, done.stdout
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tessera: "), done.stderr
    for text in said:
        assert text in lines[0], lines[0]


def test_create_list_and_delete(url: str) -> None:
    created = only_json(
        run(
            url,
            "resources",
            "create",
            "--account",
            "acme",
            "--uri",
            MCP,
            "--name",
            "Tools",
            "--scope",
            "tickets:read",
            "--json",
        )
    )["resource"]
    assert created["uri"] == MCP and created["name"] == "Tools" and created["scopes"] == ["tickets:read"]
    assert isinstance(created["id"], int) and created["created_at"].endswith("Z")
    listed = only_json(run(url, "resources", "list", "--account", "acme", "--json"))["resources"]
    assert [r["uri"] for r in listed] == [MCP]
    plain = succeeded(run(url, "resources", "list", "--account", "acme")).stdout
    assert MCP in plain and "tickets:read" in plain
    deleted = only_json(run(url, "resources", "delete", "--account", "acme", "--uri", MCP, "--json"))["resource"]
    assert deleted["id"] == created["id"]
    assert only_json(run(url, "resources", "list", "--account", "acme", "--json")) == {"resources": []}


def test_the_name_defaults_to_the_host(url: str) -> None:
    uri = "http://127.0.0.1:9000/mcp"
    done = succeeded(run(url, "resources", "create", "--account", "acme", "--uri", uri))
    assert uri in done.stdout and "any scope" in done.stdout
    listed = only_json(run(url, "resources", "list", "--account", "acme", "--json"))["resources"]
    assert {"uri": uri, "name": "127.0.0.1"}.items() <= next(r for r in listed if r["uri"] == uri).items()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--uri", "https://x.example.com/#f"), ("fragment", "RFC 8707")),
        (("--uri", "http://x.example.com/"), ("https",)),
        (("--uri", "urn:example:thing"), ("absolute https URI",)),
        (("--uri", "https://x.example.com/", "--scope", "nope"), ("scopes", "nope")),
        (("--uri", "https://x.example.com/", "--scope", "openid"), ("about the user",)),
        (("--uri", "http://acme.localhost/api/v2"), ("own API",)),
    ],
)
def test_a_bad_resource_is_one_line_and_exit_2(url: str, args: tuple[str, ...], said: tuple[str, ...]) -> None:
    refused(run(url, "resources", "create", "--account", "acme", *args), *said)


def test_a_duplicate_an_unknown_account_and_an_unknown_uri(url: str) -> None:
    uri = "https://dup.example.com/"
    succeeded(run(url, "resources", "create", "--account", "acme", "--uri", uri))
    refused(run(url, "resources", "create", "--account", "acme", "--uri", uri), "already a resource")
    refused(run(url, "resources", "create", "--account", "nope", "--uri", uri), "nope")
    refused(run(url, "resources", "delete", "--account", "acme", "--uri", "https://none.example.com/"), "no resource")


def test_a_missing_option_is_a_usage_error(url: str) -> None:
    done = run(url, "resources", "create", "--account", "acme")
    assert done.returncode == 2 and "--uri" in done.stderr and "Traceback" not in done.stderr
