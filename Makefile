# Two entry points for a fresh machine: `make run` and `make test`.
# Each creates .venv and installs what it needs the first time.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/.installed  ## fluxa standalone: PostgreSQL, SQS/S3 emulator, API, worker, beat
	$(BIN)/fluxa standalone

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint  ## unit, integration (real PostgreSQL, emulator, worker) and end-to-end tests
	$(BIN)/python -m pytest
