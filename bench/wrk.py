"""Driving wrk (Debian's wrk 4) and reading what it measured.

Each scenario is a Lua script: a fixed request, or one built per request from a file of
single-use credentials (codes, refresh tokens), each wrk thread taking its own slice so no
credential is sent twice, or from a file of bearer tokens taken in turn. Every response is checked, status and body, and a request that
fails either check counts as an error; `done` prints one JSON line with the counts and
latency percentiles, which this module parses.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

CONNECTIONS = 32
THREADS = 2

_COMMON = r"""
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local expect_status, expect_body = EXPECT_STATUS, EXPECT_BODY
function response(status, headers, body)
  if status ~= expect_status or (expect_body ~= "" and not string.find(body, expect_body, 1, true)) then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("unexpected response " .. status .. ": " .. string.sub(body, 1, 200) .. "\n") end
  end
end
function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("errors") end
  local s = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, failed, s.connect + s.read + s.write + s.timeout, s.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

_FIXED = r"""
function init(args)
  errors = 0
  wrk.method = METHOD
  wrk.body = BODY
  -- Merged, not replaced: wrk's own table holds the Host header, and a request without
  -- one is refused by any HTTP/1.1 server (node answered 400 to every request).
  for name, value in pairs(HEADERS) do wrk.headers[name] = value end
end
"""

# Credentials from a file, one per line: thread i of n takes lines i, i+n, i+2n, ...
_FROM_FILE = r"""
local credentials = {}
for line in io.lines(CREDENTIALS) do table.insert(credentials, line) end
function init(args)
  errors = 0
  next_index = id + 1
end
function request()
  local line = credentials[next_index]
  if line == nil and BEARER then  -- bearer tokens are not single-use: go round again
    next_index = id + 1
    line = credentials[next_index]
  elseif line == nil then
    io.stderr:write("out of credentials\n")
    line = credentials[1]
  end
  next_index = next_index + THREAD_COUNT
  local a, b = string.match(line, "^(%S+)%s*(%S*)$")
  local body = string.format(BODY_FORMAT, a, b)
  local headers = HEADERS
  if BEARER then headers["Authorization"] = "Bearer " .. a end
  if DPOP then  -- RFC 9449 section 7.1: the bound token, and this request's own proof
    headers["Authorization"] = "DPoP " .. a
    headers["DPoP"] = b
    body = ""
  end
  return wrk.format(METHOD, PATH, headers, body)
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _lua_table(headers: dict[str, str]) -> str:
    return "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: str = ""
    expect_status: int = 200
    expect_body: str = ""
    credentials: Path | None = None  # one credential per request: body is a format with %s %s
    # With credentials: each line's first field is a bearer token, sent in the Authorization
    # header; the file is gone through again and again (a token is not used up).
    bearer: bool = False
    # With credentials: each line is a DPoP-bound token and a proof for one request
    # (bench/dpop.py); each proof is used once.
    dpop: bool = False

    def script(self) -> str:
        parts = [
            _COMMON.replace("EXPECT_STATUS", str(self.expect_status)).replace(
                "EXPECT_BODY", _lua_string(self.expect_body)
            )
        ]
        if self.credentials is None:
            parts.append(
                _FIXED.replace("METHOD", _lua_string(self.method))
                .replace("BODY", _lua_string(self.body))
                .replace("HEADERS", _lua_table(self.headers))
            )
        else:
            parts.append(
                _FROM_FILE.replace("CREDENTIALS", _lua_string(str(self.credentials)))
                .replace("THREAD_COUNT", str(THREADS))
                .replace("BODY_FORMAT", _lua_string(self.body))
                .replace("BEARER", "true" if self.bearer else "false")
                .replace("DPOP", "true" if self.dpop else "false")
                .replace("METHOD", _lua_string(self.method))
                .replace("PATH", _lua_string(self.path))
                .replace("HEADERS", _lua_table(self.headers))
            )
        return "\n".join(parts)


@dataclass(frozen=True)
class Measured:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run(
    scenario: Scenario, url_base: str, seconds: float, *, cpu: int | None = 1, connections: int = CONNECTIONS
) -> Measured:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(scenario.script())
        script = handle.name
    command = [
        "wrk",
        f"-t{min(THREADS, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        script,
        url_base + scenario.path,
    ]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    Path(script).unlink()
    line = next((line for line in done.stdout.splitlines() if line.startswith("{")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {scenario.name}: {done.stderr.strip()[:500]}")
    data = json.loads(line)
    if data["errors"] and done.stderr:
        # The Lua script prints its first unexpected answers: show why, not just how many.
        print(f"    {scenario.name}: {' | '.join(done.stderr.strip().splitlines()[:3])}", file=sys.stderr)
    # `errors` (checked in Lua) already counts every unexpected status, non-2xx included.
    errors = data["errors"] + data["socket_errors"]
    return Measured(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
    )
