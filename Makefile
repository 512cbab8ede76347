# Two entry points for a fresh machine: `make run` and `make test`.
# Each creates .venv and installs what it needs the first time.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint soak bench contract

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The browser test drives Debian's Chromium (Playwright never downloads a browser here).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

run: $(BIN)/.installed  ## fluxa standalone: PostgreSQL, SQS/S3 emulator, API, worker, beat
	$(BIN)/fluxa standalone

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the house rules: one-way layers (pyproject.toml, [tool.importlinter])

test: lint /usr/bin/chromium  ## unit, integration (real PostgreSQL, emulator, worker), e2e, browser
	$(BIN)/python -m pytest

soak: $(BIN)/.installed  ## the fault suite's full profile: 50,000 events through random faults
	$(BIN)/python -m pytest -m faults tests/faults --soak-events 50000 --timeout 3600 -s

contract: $(BIN)/.installed  ## schemathesis CLI over the live API: 300 examples per operation, three seeds
	FLUXA_CONTRACT_EXAMPLES=300 FLUXA_CONTRACT_SEEDS=7,13,42 \
	$(BIN)/python -m pytest tests/integration/test_live_api.py -k schemathesis --timeout 3600 -s

bench: $(BIN)/.installed  ## benchmarks against raw baselines; table in the output, JSON in bench/results.json
	$(BIN)/python -m bench $(BENCH_ARGS)
