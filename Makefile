# bankbot: every target creates .venv from the lock file on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit fuzz faults bench package lock clean

run: $(STAMP)
	$(BIN)/bankbot chat

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/cfn-lint template.yaml
	$(BIN)/bankbot template --check

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy scripts/package.py

unit: $(STAMP)
	$(BIN)/pytest

# Thousands of generated Lex and Connect events through the real handlers.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/integration/test_fuzz_handlers.py \
		tests/unit/test_lex_events.py tests/contract/test_connect_adapter.py

# Every injected fault through both handlers; rewrites docs/faults.md.
faults: $(STAMP)
	$(BIN)/python -m tests.faults.report

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Cold start, warm turns, memory and package size; writes bench/results.json
# and docs/bench.md. Not part of make test (about two minutes).
bench: $(STAMP)
	$(BIN)/python -m bench.run

# The Lambda deployment artifact: build/lambda/ and build/bankbot-lambda.zip.
# Needs PyPI (Linux arm64 wheels for Python 3.12); not part of make test.
# Bytecode needs a CPython 3.12: python3.12 on PATH or $LAMBDA_PYTHON_EXECUTABLE.
# PACKAGE_ARGS=--require-bytecode makes building without it an error.
package: $(STAMP)
	$(BIN)/python scripts/package.py $(PACKAGE_ARGS)

# Re-resolve both lock files after a change to the dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		-o requirements.lock -q
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 -o requirements-dev.lock -q

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
