# Two entry points for a fresh machine: `make run` and `make test`.
# Each creates .venv and installs what it needs the first time.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint soak bench contract image-test

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The deployment checks' own environment: checkov pins older boto3 and packaging than
# Fluxa uses, so cfn-lint and checkov live apart from .venv.
CHECKS := .venv-checks
$(CHECKS)/.installed:
	$(PYTHON) -m venv $(CHECKS)
	$(CHECKS)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKS)/bin/python -m pip install --quiet "cfn-lint>=1.20" "checkov>=3.2"
	touch $@

# The AWS CLI, for the test that runs docs/deploy-aws.md's commands against the emulator:
# version 1 is the one on PyPI, and it pins its own botocore, so it lives apart too.
AWSCLI := .venv-aws
$(AWSCLI)/.installed:
	$(PYTHON) -m venv $(AWSCLI)
	$(AWSCLI)/bin/python -m pip install --quiet --upgrade pip
	$(AWSCLI)/bin/python -m pip install --quiet "awscli>=1.40"
	touch $@

# Another language's RFC 8785 (npm's canonicalize, under the machine's Node.js), for the
# test that compares payload hashes across languages.
JCS_NODE := tests/support/jcs_node
$(JCS_NODE)/node_modules/.installed: $(JCS_NODE)/package-lock.json
	cd $(JCS_NODE) && npm ci --silent --no-audit --no-fund
	touch $@

# From Debian, with apt-get (sudo when not root): Chromium for the browser test (Playwright
# never downloads a browser here) and promtool (package prometheus) for the alert tests.
/usr/bin/chromium /usr/bin/promtool:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium prometheus >/dev/null

run: $(BIN)/.installed  ## fluxa standalone: PostgreSQL, SQS/S3 emulator, API, worker, beat
	$(BIN)/fluxa standalone

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports  # the house rules: one-way layers (pyproject.toml, [tool.importlinter])

test: lint /usr/bin/chromium /usr/bin/promtool $(CHECKS)/.installed $(AWSCLI)/.installed $(JCS_NODE)/node_modules/.installed  ## unit, integration (real PostgreSQL, emulator, worker), e2e, browser, deployment checks
	$(BIN)/python -m pytest

soak: $(BIN)/.installed  ## the fault suite's full profile: 50,000 events through random faults
	$(BIN)/python -m pytest -m faults tests/faults --soak-events 50000 --timeout 3600 -s

contract: $(BIN)/.installed  ## schemathesis CLI over the live API: 300 examples per operation, three seeds
	FLUXA_CONTRACT_EXAMPLES=300 FLUXA_CONTRACT_SEEDS=7,13,42 \
	$(BIN)/python -m pytest tests/integration/test_live_api.py -k schemathesis --timeout 3600 -s

bench: $(BIN)/.installed  ## benchmarks against raw baselines; table in the output, JSON in bench/results.json
	$(BIN)/python -m bench $(BENCH_ARGS)

image-test: $(BIN)/.installed  ## build the container image with podman and run setup, api, worker, beat from it (minutes)
	FLUXA_IMAGE_TEST=1 $(BIN)/python -m pytest -m image tests/integration/test_container_image.py --timeout 3600 -s
