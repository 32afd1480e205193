# Tessera: every target sets up what it needs on a fresh machine (Debian, Python 3.11).
#   make demo   set up, then serve a seeded demo account on the embedded SQLite
#   make test   set up, then run the whole test suite (SQLite and PostgreSQL)
#   make lint   ruff, mypy --strict, the protocol/ import boundary, pip-audit of uv.lock
#   make fuzz   the fuzzing run of every endpoint, with a large budget (docs/reliability.md)
#   make bench  the benchmark suite (docs/benchmarks.md)
#   make reliability  the long proofs under faults; writes their figures into docs/reliability.md

PYTHON   ?= python3.11
UV_VERSION := 0.13.9
TOOLS    := .tools
UV       := $(TOOLS)/bin/uv
VENV     := .venv
BIN      := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint fuzz bench reliability setup services test-packages clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --extra dev --python $(PYTHON) --compile-bytecode --quiet
	touch $@

# The test-only relying party (npm openid-client) that drives Tessera in tests/e2e.
RP := tests/e2e/rp
$(RP)/node_modules/.installed: $(RP)/package.json $(RP)/package-lock.json
	npm ci --prefix $(RP) --no-audit --no-fund --loglevel=error
	touch $@

# The benchmark's peer, node-oidc-provider 9 (bench/peer; node_modules is ignored);
# `make test` runs it briefly (tests/bench/test_peer_smoke.py).
PEER := bench/peer
$(PEER)/node_modules/.installed: $(PEER)/package.json $(PEER)/package-lock.json
	npm ci --prefix $(PEER) --no-audit --no-fund
	touch $@

setup: $(VENV)/.synced

services:
	@scripts/ensure-services

test-packages:
	@scripts/ensure-test-packages

demo: setup
	$(BIN)/tessera demo

test: setup services test-packages $(RP)/node_modules/.installed $(PEER)/node_modules/.installed
	$(BIN)/pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check tessera tests bench
	$(BIN)/ruff format --check tessera tests bench
	$(BIN)/mypy
	scripts/check-boundaries
	scripts/audit-dependencies $(UV) $(BIN)/python $(BIN)/pip-audit

# Every endpoint fed hostile input with a large budget, seeded (FUZZ_EXAMPLES cases per
# endpoint and engine, default 110; FUZZ_SEED): per endpoint the cases and the 5xx seen.
fuzz: setup services
	scripts/fuzz $(BIN)/python

# Everything, scale experiments included (1M and 10M live tokens, the purge of 1M expired
# ones while serving), and two nodes on PostgreSQL behind HAProxy (bench/multinode.py, about
# 3 minutes more). On 2-core machines of this kind the whole target took 17 to 30 minutes
# before that (the purge experiment alone 4 to 8, loading the 9M extra tokens 1.5 to 2.5).
# The 10M-token SQLite file is 2.5 GB, in the temporary folder, plus the load's scratch
# space; removed afterwards.
bench: setup services $(PEER)/node_modules/.installed
	@scripts/ensure-test-packages wrk haproxy
	$(BIN)/python -m bench.run --scale --multinode

# The long versions of the proofs under faults that `make test` runs briefly: 5 rounds of
# each 50-way race on PostgreSQL with two workers (bulk revocations among 50 refreshes
# included), 3 kills -9 under 10 s of load on each engine, SQLite's read-only file and full
# disk, 3 PostgreSQL outages of 10 s under load (docs/reliability.md, "Proof under faults",
# whose figures it rewrites, even when a run fails). About 8 minutes on 2 cores; needs root
# for the SQLite faults (skipped otherwise).
reliability: setup services
	@figures=$$(mktemp); status=0; \
	TESSERA_RELIABILITY=long TESSERA_RELIABILITY_FIGURES=$$figures PYTHONPATH=$(CURDIR) \
	  $(BIN)/pytest -p no:randomly -p no:cacheprovider tests/e2e/test_races.py \
	  tests/e2e/test_crash_safety.py tests/e2e/test_sqlite_faults.py tests/e2e/test_database_outage.py \
	  || status=$$?; \
	$(BIN)/python -m tests.e2e.reliability_figures $$figures docs/reliability.md; \
	rm -f $$figures; exit $$status

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
